"""Clinical rubrics: the criteria schema, graders and HealthBench-exact scoring.

- ``clinic_rubrics.schema``: criteria with integer points in [-10, 10] over six dimensions; HealthBench items.
- ``clinic_rubrics.grading``: the grader contract (sessions: ``update`` per turn, ``finish``) and verdicts.
- ``clinic_rubrics.offline_grader``: checks each criterion's matcher without a model.
- ``clinic_rubrics.llm_judge``: HealthBench's grader procedure through any ``clinic_rubrics.chat.ChatClient``.
- ``clinic_rubrics.ensemble``: several graders voting per criterion.
- ``clinic_rubrics.scoring``: per-example, tag, dimension and aggregate scores as HealthBench computes them.
- ``clinic_rubrics.healthbench``: HealthBench JSONL records and meta-evaluation rows.

This layer knows nothing of cases or environments: ``clinic_env`` builds
rubrics from cases and feeds graders its consultations.
"""
