"""The PTCE assistant."""

import os

# numpy's OpenBLAS starts one thread per core and keeps them spinning between the small
# products the answers need (a question's vector against ~1,000 phrasings, the e5 model's
# layers): on 2 cores a question cost twice its CPU time for no gain in speed (measured
# 3 December 2026: 123 ms of CPU → 52 ms for a new question, 2.7 → 1.0 ms for a known one,
# and less waiting too). Set before numpy is imported anywhere in the bot; an operator's
# own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
