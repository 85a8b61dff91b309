"""Reference training runtime of the LLM Ops Platform (contract: packages/spec/src/runtime.ts)."""

__version__ = "0.1.0"
