"""Tokenizers: a byte-level BPE trained on the corpus when the spec gives none, so no hub download is needed."""

from __future__ import annotations

from typing import Any

from .errors import SpecError

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>")
BYTE_ALPHABET = 256

# Used when a tokenizer has no chat template, and saved with the model so serving formats chats the same way.
DEFAULT_CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def build_bpe_tokenizer(texts: list[str], vocab_size: int, max_length: int) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    minimum = BYTE_ALPHABET + len(SPECIAL_TOKENS)
    if vocab_size < minimum:
        raise SpecError(
            "model.init_config.vocab_size",
            f"must be at least {minimum} (256 bytes + {len(SPECIAL_TOKENS)} special tokens) "
            f"for the byte-level tokenizer built from the corpus, got {vocab_size}",
        )
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        model_max_length=max_length,
    )


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok
