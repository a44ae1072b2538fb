"""Clinical rubrics: the criteria schema, graders and HealthBench-exact scoring.

- ``rubrics.schema``: criteria with integer points in [-10, 10] over six dimensions; HealthBench items.
- ``rubrics.offline_grader``: checks each criterion's matcher without a model.
- ``rubrics.llm_judge``: HealthBench's grader procedure through any ``rubrics.chat.ChatClient``.
- ``rubrics.ensemble``: several graders voting per criterion.
- ``rubrics.scoring``: per-example, tag, dimension and aggregate scores as HealthBench computes them.
- ``rubrics.healthbench``: HealthBench JSONL records and meta-evaluation rows.

This layer knows nothing of cases or environments (see DESIGN.md): ``clinic_env`` builds
rubrics from cases and feeds graders its consultations.
"""
