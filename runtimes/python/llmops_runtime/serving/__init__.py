"""The model server: a trained Hugging Face model folder behind an OpenAI-compatible HTTP API.

python -m llmops_runtime serve --model DIR [--port N] ...   (see settings.py for every option)
"""
