"""Doctor policies and the training and serving pieces built on clinic_env.

Only the modules that need torch, transformers or vLLM import them, so the scripted
doctor works on a core install.
"""
