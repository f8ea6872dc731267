"""What tests and benchmarks share: the fake Telegram Bot API, founders and their answer
profiles, crowds of founders, the bot as a process, PDF reading and content edits."""
