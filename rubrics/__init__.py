"""Clinical rubrics: criteria schema, graders and HealthBench-exact scoring.

This layer knows nothing of cases or environments (see DESIGN.md); it is built out by
the rubric issue, and the environment's diagnosis-match reward stands in until then.
"""
