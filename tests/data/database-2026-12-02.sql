BEGIN TRANSACTION;
CREATE TABLE "advisers" (
   "user_key" TEXT PRIMARY KEY,
   "structure" TEXT,
   "pending" TEXT,
   "created" TEXT
);
CREATE TABLE "coordinators" (
   "chat_key" TEXT PRIMARY KEY,
   "coordination_id" TEXT,
   "region_id" TEXT,
   "linked_at" TEXT,
   "pending" TEXT
);
CREATE TABLE "deliveries" (
   "id" INTEGER PRIMARY KEY,
   "lead_id" INTEGER,
   "purpose" TEXT,
   "kind" TEXT,
   "target" TEXT,
   "text" TEXT,
   "status" TEXT,
   "attempts" INTEGER,
   "next_attempt" TEXT,
   "last_error" TEXT,
   "fallback" INTEGER,
   "created" TEXT,
   "updated" TEXT
);
CREATE TABLE "feedback" (
   "id" INTEGER PRIMARY KEY,
   "ts" TEXT,
   "channel" TEXT,
   "entry_id" TEXT,
   "useful" INTEGER
);
CREATE TABLE "feedback_reasons" (
   "id" INTEGER PRIMARY KEY,
   "ts" TEXT,
   "channel" TEXT,
   "entry_id" TEXT,
   "reason" TEXT
);
CREATE TABLE "handoffs" (
   "user_key" TEXT PRIMARY KEY,
   "state" TEXT,
   "updated" TEXT
);
CREATE TABLE "invites" (
   "code" TEXT PRIMARY KEY,
   "coordination_id" TEXT,
   "region_id" TEXT,
   "created" TEXT,
   "used_at" TEXT,
   "used_by" TEXT
);
CREATE TABLE "leads" (
   "id" INTEGER PRIMARY KEY,
   "created" TEXT,
   "user_key" TEXT,
   "chat_id" TEXT,
   "region_id" TEXT,
   "region" TEXT,
   "department" TEXT,
   "coordination_id" TEXT,
   "coordination" TEXT,
   "project" TEXT,
   "verdict" TEXT,
   "summary" TEXT,
   "contact" TEXT,
   "consent_version" TEXT,
   "consent_at" TEXT,
   "consent_recipient" TEXT,
   "status" TEXT,
   "status_note" TEXT,
   "status_at" TEXT,
   "flagged" INTEGER,
   "reminded_at" TEXT,
   "escalated_at" TEXT,
   "report" BLOB,
   "report_name" TEXT,
   "chart" BLOB
);
INSERT INTO "leads" VALUES(1,'2026-12-01T10:00:00+00:00','telegram:5002','5002','bretagne','Bretagne','35','cress-bretagne','CRESS Bretagne','Pôle Sud','ptce','','{"name": "L\u00e9a"}','1','2026-12-01T10:00:00+00:00','la CRESS Bretagne','nouveau','','2026-12-01T10:00:00+00:00',0,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE "questions" (
   "id" INTEGER PRIMARY KEY,
   "ts" TEXT,
   "channel" TEXT,
   "outcome" TEXT,
   "entry_id" TEXT
);
INSERT INTO "questions" VALUES(1,'2026-12-03T11:39:10+00:00','telegram','answer','def-ptce');
INSERT INTO "questions" VALUES(2,'2026-12-03T11:39:10+00:00','telegram','answer','lancer-diagnostic');
CREATE TABLE "sessions" (
   "id" INTEGER PRIMARY KEY,
   "user_key" TEXT,
   "version" TEXT,
   "status" TEXT,
   "state" TEXT,
   "verdict" TEXT,
   "region" TEXT,
   "adviser_key" TEXT,
   "project" TEXT,
   "token" TEXT,
   "created" TEXT,
   "updated" TEXT
);
CREATE TABLE "unanswered" (
   "key" TEXT PRIMARY KEY,
   "text" TEXT,
   "outcome" TEXT,
   "count" INTEGER,
   "first_seen" TEXT,
   "last_seen" TEXT
);
CREATE TABLE "updates" (
   "channel" TEXT,
   "update_id" INTEGER,
   "at" REAL,
   PRIMARY KEY ("channel", "update_id")
);
CREATE TABLE "users" (
   "channel" TEXT,
   "user_id" TEXT,
   "active" INTEGER,
   "first_seen" TEXT,
   "last_seen" TEXT,
   "blocked_at" TEXT,
   PRIMARY KEY ("channel", "user_id")
);
CREATE INDEX "idx_sessions_user_key_status"
    ON "sessions" ("user_key", "status");
CREATE INDEX "idx_sessions_adviser_key"
    ON "sessions" ("adviser_key");
CREATE UNIQUE INDEX "idx_sessions_token"
    ON "sessions" ("token");
CREATE INDEX "idx_leads_region_id_status"
    ON "leads" ("region_id", "status");
CREATE INDEX "idx_leads_user_key"
    ON "leads" ("user_key");
CREATE INDEX "idx_deliveries_status_next_attempt"
    ON "deliveries" ("status", "next_attempt");
COMMIT;
