"""The ``clinic-env`` command: the top layer, over clinic_rubrics, clinic_env and clinic_agents.

It resolves specs and calls the layers below; the training, quantization and serving
commands import their ``clinic_agents`` modules only when run (the [train] / [quantize]
extras bring what those need).
"""
