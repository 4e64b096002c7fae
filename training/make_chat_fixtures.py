#!/usr/bin/env python3
"""Builds the chat template fixtures for the Swift tests: what transformers renders.

The engine renders instruct models' Jinja chat templates with its own Jinja subset
(Sources/Engine/Chat). These fixtures hold what HF transformers' `apply_chat_template` gives
for the real templates, so the Swift tests compare against a reference nobody here wrote.

Inputs (committed):
  Tests/EngineTests/Fixtures/chat/templates/*.jinja   the real chat templates of SmolLM2,
      Qwen2.5, Qwen3, Llama 3.2 / 3.3, Gemma 2 / 3, Phi-3-mini / Phi-3.5-mini and Mistral
      (7B-Instruct v0.1, v0.2, Nemo); templates/SOURCES.md says where each text came from.
      With --llama-cpp PATH (a llama.cpp checkout), the ones llama.cpp keeps under
      models/templates/ are checked against that copy first.
  Tests/EngineTests/Fixtures/tokenizers/{qwen2,llama3,mistral}/tokenizer.json (reused).

Outputs (Tests/EngineTests/Fixtures/chat/):
  tokenizers/FAMILY/tokenizer.json   small tokenizers trained here with the real `tokenizers`
      library, configured like the family's real one, with the template's special tokens as
      added tokens: smollm2 (byte-level BPE, GPT-2 ByteLevel split; the real one also splits
      digits, which the engine cannot yet), qwen3 (the qwen2 fixture plus
      Qwen3's <think> tokens), gemma (SentencePiece BPE as HF converts Gemma: Replace " " -> "▁",
      no pre-tokenizer, byte fallback), phi3 (SentencePiece BPE as Llama 2, Phi-3's added
      tokens with rstrip), nemo (byte-level BPE with Mistral Nemo's Tekken split pattern).
  models/NAME/tokenizer_config.json  (and chat_template.jinja for some): a model folder per
      template, in the forms transformers reads: chat_template as a string, as a list of named
      templates, or in chat_template.jinja; bos/eos as strings or AddedToken objects.
  llama3.2.gguf                      a vocab-only GGUF (gguf-py) with tokenizer.chat_template.
  cases.json   {"date": ..., "templates": {NAME: {"folder", "tokenizer", "form", "bos_token",
                "eos_token"}}, "conversations": {NAME: [messages]}, "precedence": text,
                "gguf": path, "cases": [{"template", "conversation", "add_generation_prompt",
                "variables", "text" | "error", "ids"}]}
      text: apply_chat_template(messages, tokenize=False, add_generation_prompt=..., **variables)
      ids: apply_chat_template(..., tokenize=True)["input_ids"] (transformers 5 encodes the
      rendered text with add_special_tokens=False; checked here); error: the TemplateError
      message when the template refuses the conversation (raise_exception).
  wild_cases.json   (only rewritten with --llama-cpp) more real templates from llama.cpp's
      models/templates/ that use constructs the twelve above do not (int dict keys, a filter
      block, Markup from |safe, the generation tag, macros, gpt-oss's harmony format), each
      with its source and the text transformers renders for a few conversations.
  jinja_cases.json  small templates exercising the Jinja features one at a time, rendered by
      transformers' own compiled environment (sandboxed jinja2 with trim_blocks, lstrip_blocks,
      loopcontrols, its tojson, raise_exception, strftime_now): {"template", "variables",
      "text" | "error"}.

strftime_now reads datetime.now(); here it is pinned to DATE (the tests pass the same date).

    /work/venv5/bin/python training/make_chat_fixtures.py [--llama-cpp PATH]

Needs transformers 5.x, jinja2, tokenizers, sentencepiece and gguf. Training is not
bit-for-bit reproducible across library versions; the expectations always match the files
written in the same run.
"""
import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile

import gguf
import sentencepiece as spm
import tokenizers
import transformers
import transformers.utils.chat_template_utils as chat_utils
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "EngineTests", "Fixtures")
OUT = os.path.join(FIXTURES, "chat")
TEMPLATES = os.path.join(OUT, "templates")
CORPUS = os.environ.get("DEPTHSCOPE_CORPUS", os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare.txt"))

DATE = dt.datetime(2025, 3, 7, 12, 0, 0)

# Mistral Nemo's tokenizer (Tekken) split pattern.
TEKKEN_PATTERN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
                  r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|"
                  r"\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# name: (tokenizer family, bos_token, eos_token, how the folder stores it, llama.cpp file)
TEMPLATES_USED = {
    "smollm2": ("smollm2", "<|im_start|>", "<|im_end|>", "string", None),
    "qwen2.5": ("qwen2", None, "<|im_end|>", "string", "Qwen-Qwen2.5-7B-Instruct.jinja"),
    "qwen3": ("qwen3", None, "<|im_end|>", "jinja-file", "Qwen-Qwen3-0.6B.jinja"),
    "llama3.2": ("llama3", "<|begin_of_text|>", "<|eot_id|>", "string", "meta-llama-Llama-3.2-3B-Instruct.jinja"),
    "llama3.3": ("llama3", "<|begin_of_text|>", "<|eot_id|>", "added-token-objects",
                 ("meta-llama-Llama-3.3-70B-Instruct.jinja", "meta-llama-Llama-3.1-8B-Instruct.jinja")),
    "gemma2": ("gemma", "<bos>", "<eos>", "string", "google-gemma-2-2b-it.jinja"),
    "gemma3": ("gemma", "<bos>", "<eos>", "string", None),
    "phi3-mini": ("phi3", "<s>", "<|endoftext|>", "string", None),
    "phi3.5": ("phi3", "<s>", "<|endoftext|>", "string", "microsoft-Phi-3.5-mini-instruct.jinja"),
    "mistral-v0.1": ("mistral", "<s>", "</s>", "string", None),
    "mistral-v0.2": ("mistral", "<s>", "</s>", "list", None),
    "mistral-nemo": ("nemo", "<s>", "</s>", "string", "mistralai-Mistral-Nemo-Instruct-2407.jinja"),
}

# Tokenizer families reused from the tokenizer fixtures.
REUSED_TOKENIZERS = {"qwen2": "qwen2", "llama3": "llama3", "mistral": "mistral"}


def msg(role, content):
    return {"role": role, "content": content}


CONVERSATIONS = {
    "user": [msg("user", "Hello! Who are you?")],
    "system_user": [msg("system", "You are a terse assistant. Answer in one word."),
                    msg("user", "What is the capital of France?")],
    "multi_turn": [msg("user", "Hi there"), msg("assistant", "Hello! How can I help?"),
                   msg("user", "Tell me a joke.")],
    "system_multi_turn": [msg("system", "You are a helpful assistant"), msg("user", "Hello"),
                          msg("assistant", "Hi there"), msg("user", "Who are you")],
    "assistant_last": [msg("user", "What is 2+2?"), msg("assistant", "4")],
    "unicode": [msg("user", "  Grüße aus Köln! 日本語のテキスト 👋🏽 “quotes” — ok\nZweite Zeile\n\n\tEingerückt  \n")],
    "padded_assistant": [msg("user", "Who are you"), msg("assistant", "   I am an assistant   "),
                         msg("user", "Another question")],
    "empty": [msg("system", ""), msg("user", "")],
    "not_alternating": [msg("user", "One"), msg("user", "Two")],
    "unknown_role": [msg("user", "Hi"), msg("critic", "Too short.")],
}

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city, e.g. Zürich.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "return": {"type": "number"}}}
TOOL_TURN = [msg("user", "What's the weather in Zürich?"), msg("assistant", "Let me check."),
             msg("tool", '{"temperature": 21.5, "unit": "celsius"}')]


# More real templates (llama.cpp models/templates/ file names), text only: see wild_cases.json.
# file: the template variables it needs besides messages and tools.
WILD_TEMPLATES = {
    "ByteDance-Seed-OSS.jinja": {},
    "fireworks-ai-llama-3-firefunction-v2.jinja": {"functions": json.dumps([WEATHER_TOOL["function"]]),
                                                   "datetime": "2025-03-07"},
    "meetkai-functionary-medium-v3.1.jinja": {},
    "HuggingFaceTB-SmolLM3-3B.jinja": {},
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja": {},
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja": {},
    "openai-gpt-oss-120b.jinja": {},
}

def with_tools(templates):
    """The same tool conversations for the templates that take `tools`."""
    return {name: [("tools", [msg("system", "Use tools when needed."), msg("user", "Weather in Oslo?")],
                    {"tools": [WEATHER_TOOL]}),
                   ("tool_result", TOOL_TURN, {"tools": [WEATHER_TOOL]})] for name in templates}


# Conversations (and template variables) only for some templates.
TOOL_CASES = with_tools(["qwen2.5", "qwen3", "llama3.2", "llama3.3", "mistral-nemo"])
EXTRA = {
    "qwen3": [
        ("thinking_history", [msg("user", "What is 1+1?"),
                              msg("assistant", "<think>\nSimple arithmetic.\n</think>\n\n2"),
                              msg("user", "And 2+2?")], {}),
        ("thinking_last", [msg("user", "What is 1+1?"),
                           msg("assistant", "<think>\nSimple arithmetic.\n</think>\n\nIt is 2.")], {}),
        ("no_thinking", [msg("user", "Quick: 3+3?")], {"enable_thinking": False}),
        ("thinking_on", [msg("user", "Quick: 3+3?")], {"enable_thinking": True}),
    ],
    "qwen2.5": [
        ("thinking_history", [msg("user", "What is 1+1?"),
                              msg("assistant", "<think>\nSimple arithmetic.\n</think>\n\n2"),
                              msg("user", "And 2+2?")], {}),
    ],
    "llama3.2": [("date_string", [msg("user", "What day is it?")], {"date_string": "01 Jan 2030"})],
    "llama3.3": [("builtin_tools", [msg("user", "Search the web.")],
                  {"builtin_tools": ["brave_search", "code_interpreter", "wolfram_alpha"]})],
}


# --- reference rendering ----------------------------------------------------------------

class FixedDatetime(dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return DATE


def pin_date():
    # strftime_now calls `datetime.now()` through this module's global at render time.
    chat_utils.datetime = FixedDatetime


def compiled(source):
    return chat_utils._compile_jinja_template(source)


# --- tokenizers ---------------------------------------------------------------------------

CHAT_TEXT = """<|im_start|>system
You are a helpful assistant.<|im_end|>
<|im_start|>user
What is the capital of France? Tell me a joke.<|im_end|>
<|im_start|>assistant
Hello! How can I help? I am an assistant. Who are you? Another question.
Cutting Knowledge Date: December 2023
Today Date: 26 Jul 2024
[INST] Hi there [/INST] Grüße aus Köln! Zweite Zeile, eingerückt.
<start_of_turn>user
Hello<end_of_turn>
<start_of_turn>model
<|user|>
What is 2+2?<|end|>
<|assistant|>
4<|end|>
<think>
Simple arithmetic.
</think>
"""


def training_lines():
    with open(CORPUS, encoding="utf-8") as f:
        text = f.read()[:200_000]
    for line in (text + CHAT_TEXT * 50).splitlines(keepends=True):
        yield line


def byte_level(pre_tokenizer, vocab_size, specials):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(training_lines(), trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    return tok


def make_smollm2():
    # SmolLM2's real pre-tokenizer is Sequence[Digits(individual_digits), ByteLevel]; the
    # engine has no Digits pre-tokenizer yet, so this fixture keeps only the ByteLevel step.
    pre = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok = byte_level(pre, 420, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tok.post_processor = tokenizers.processors.ByteLevel(trim_offsets=False)
    return tok


def make_qwen3():
    # Qwen3's tokenizer is Qwen2's with more added tokens; <think> and </think> are not special.
    tok = Tokenizer.from_file(os.path.join(FIXTURES, "tokenizers", "qwen2", "tokenizer.json"))
    tok.add_tokens([AddedToken(t, normalized=False, special=False)
                    for t in ["<tool_call>", "</tool_call>", "<think>", "</think>"]])
    return tok


def make_nemo():
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(TEKKEN_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    specials = ["<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]",
                "[TOOL_RESULTS]", "[/TOOL_RESULTS]", "[TOOL_CALLS]"]
    return byte_level(pre, 420, specials)


def sentencepiece_bpe(vocab_size, control_ids):
    """A SentencePiece BPE model (byte fallback) trained here, as vocab + merges the way HF's
    converter derives them (every split of a piece into two pieces, by the piece's score)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(training_lines())
        spm.SentencePieceTrainer.train(
            input=path, model_prefix=os.path.join(tmp, "sp"), vocab_size=vocab_size, model_type="bpe",
            byte_fallback=True, character_coverage=0.9995, split_digits=True, allow_whitespace_only_pieces=True,
            remove_extra_whitespaces=False, normalization_rule_name="identity", minloglevel=2,
            add_dummy_prefix=False, **control_ids)
        sp = spm.SentencePieceProcessor(model_file=os.path.join(tmp, "sp.model"))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    merges = []
    for piece, pid in vocab.items():
        if sp.is_control(pid) or sp.is_unknown(pid) or sp.is_byte(pid):
            continue
        local = [(piece[:cut], piece[cut:]) for cut in range(1, len(piece))
                 if piece[:cut] in vocab and piece[cut:] in vocab]
        local.sort(key=lambda pair: (vocab[pair[0]], vocab[pair[1]]))
        merges.extend((left, right, -sp.get_score(pid)) for left, right in local)
    merges.sort(key=lambda m: m[2])
    return vocab, [[left, right] for left, right, _ in merges]


def added(content, token_id, special=True, rstrip=False):
    return {"id": token_id, "content": content, "single_word": False, "lstrip": False, "rstrip": rstrip,
            "normalized": False, "special": special}


def sentencepiece_tokenizer(vocab, merges, added_tokens, normalizer, decoder, bos):
    data = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added_tokens,
        "normalizer": normalizer,
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {bos: {"id": bos, "ids": [vocab[bos]], "tokens": [bos]}},
        },
        "decoder": decoder,
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    return Tokenizer.from_str(json.dumps(data))


def make_gemma():
    # Gemma: <pad> 0, <eos> 1, <bos> 2, <unk> 3; spaces become "▁" with no dummy prefix.
    vocab, merges = sentencepiece_bpe(520, {"pad_id": 0, "eos_id": 1, "bos_id": 2, "unk_id": 3,
                                            "pad_piece": "<pad>", "eos_piece": "<eos>", "bos_piece": "<bos>"})
    for extra in ["<start_of_turn>", "<end_of_turn>", "<start_of_image>"]:
        vocab[extra] = len(vocab)
    added_tokens = [added(t, vocab[t]) for t in ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>",
                                                  "<end_of_turn>", "<start_of_image>"]]
    normalizer = {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}
    decoder = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"}]}
    return sentencepiece_tokenizer(vocab, merges, added_tokens, normalizer, decoder, "<bos>")


def make_phi3():
    # Phi-3: Llama 2's SentencePiece setup (legacy "▁" prefix on every segment) and added
    # tokens after the vocabulary, most of them with rstrip (they swallow the "\n" after them).
    vocab, merges = sentencepiece_bpe(520, {"unk_id": 0, "bos_id": 1, "eos_id": 2})
    extra = [("<|endoftext|>", False), ("<|assistant|>", True), ("<|placeholder1|>", True),
             ("<|placeholder2|>", True), ("<|placeholder3|>", True), ("<|placeholder4|>", True),
             ("<|system|>", True), ("<|end|>", True), ("<|placeholder5|>", True), ("<|placeholder6|>", True),
             ("<|user|>", True)]
    for content, _ in extra:
        vocab[content] = len(vocab)
    added_tokens = [added("<unk>", 0), added("<s>", 1), added("</s>", 2, special=False, rstrip=True)]
    added_tokens += [added(content, vocab[content], rstrip=rstrip) for content, rstrip in extra]
    normalizer = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
    decoder = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    return sentencepiece_tokenizer(vocab, merges, added_tokens, normalizer, decoder, "<s>")


def write_tokenizers():
    """tokenizer.json path (relative to OUT) of every family."""
    paths = {}
    for family, fixture in REUSED_TOKENIZERS.items():
        paths[family] = os.path.relpath(os.path.join(FIXTURES, "tokenizers", fixture, "tokenizer.json"), OUT)
    for family, make in [("smollm2", make_smollm2), ("qwen3", make_qwen3), ("nemo", make_nemo),
                         ("gemma", make_gemma), ("phi3", make_phi3)]:
        folder = os.path.join(OUT, "tokenizers", family)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "tokenizer.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(make().to_str())
        paths[family] = os.path.relpath(path, OUT)
        size = Tokenizer.from_file(path).get_vocab_size(with_added_tokens=True)
        print(f"tokenizer {family}: {size} ids, {os.path.getsize(path)} bytes", file=sys.stderr)
    return paths


# --- model folders and cases --------------------------------------------------------------

def read_template(name):
    with open(os.path.join(TEMPLATES, f"{name}.jinja"), encoding="utf-8", newline="") as f:
        return f.read()


def check_llama_cpp(llama_cpp):
    for name, (_, _, _, _, upstream) in TEMPLATES_USED.items():
        for file in [upstream] if isinstance(upstream, str) else upstream or []:
            with open(os.path.join(llama_cpp, "models", "templates", file), encoding="utf-8") as f:
                theirs = f.read().replace("\r\n", "\n")
            if theirs != read_template(name):
                sys.exit(f"{name}.jinja differs from llama.cpp's models/templates/{file}")
            print(f"{name}.jinja is llama.cpp's {file}", file=sys.stderr)


def token_entry(content):
    return {"__type": "AddedToken", "content": content, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False, "special": True}


def write_model_folder(name, template, bos, eos, form):
    """A model folder holding the template the way `form` says; returns its path."""
    folder = os.path.join(OUT, "models", name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 4096}
    if form == "added-token-objects":
        config["bos_token"] = token_entry(bos) if bos else None
        config["eos_token"] = token_entry(eos)
    else:
        config["bos_token"] = bos
        config["eos_token"] = eos
    if form in ("string", "added-token-objects"):
        config["chat_template"] = template
    elif form == "list":
        # Another named template first, which must not be picked (transformers takes "default").
        config["chat_template"] = [{"name": "tool_use", "template": "{{ raise_exception('tool_use was picked') }}"},
                                   {"name": "default", "template": template}]
    elif form == "jinja-file":
        # transformers 5 saves the template here, and reads it in preference to the config.
        with open(os.path.join(folder, "chat_template.jinja"), "w", encoding="utf-8", newline="") as f:
            f.write(template)
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
        f.write("\n")
    return folder


def load_reference_tokenizer(folder, tokenizer_json):
    """transformers' tokenizer for a model folder plus the family's tokenizer.json."""
    tmp = tempfile.mkdtemp()
    for file in os.listdir(folder):
        shutil.copy(os.path.join(folder, file), tmp)
    shutil.copy(tokenizer_json, os.path.join(tmp, "tokenizer.json"))
    tokenizer = AutoTokenizer.from_pretrained(tmp)
    shutil.rmtree(tmp)
    # The Swift tests load tokenizer.json directly: transformers must not have changed it.
    plain = Tokenizer.from_file(tokenizer_json)
    probe = "Hello <|im_start|>Grüße\n\n  <|user|>\nx<s>[INST]"
    assert tokenizer(probe, add_special_tokens=False)["input_ids"] == plain.encode(probe, add_special_tokens=False).ids
    return tokenizer


def render_case(tokenizer, name, conversation, messages, generation, variables):
    case = {"template": name, "conversation": conversation, "add_generation_prompt": generation,
            "variables": variables}
    try:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation, **variables)
    except Exception as error:  # the template's raise_exception (jinja2 TemplateError)
        case["error"] = str(error)
        return case
    ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=generation, **variables)
    ids = ids["input_ids"] if not isinstance(ids, list) else ids
    assert ids == tokenizer(text, add_special_tokens=False)["input_ids"], name
    case["text"] = text
    case["ids"] = ids
    return case


def write_precedence_folder():
    """chat_template.jinja wins over tokenizer_config.json's chat_template."""
    folder = os.path.join(OUT, "models", "precedence")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
              "chat_template": "config: {{ messages[0].content }}"}
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    with open(os.path.join(folder, "chat_template.jinja"), "w", encoding="utf-8") as f:
        f.write("{{ bos_token }}jinja file: {{ messages[0].content }}{{ eos_token }}\n")
    tokenizer = load_reference_tokenizer(folder, os.path.join(FIXTURES, "tokenizers", "mistral", "tokenizer.json"))
    return tokenizer.apply_chat_template([msg("user", "hi")], tokenize=False)


def write_gguf(template, tokenizer_json, bos, eos):
    """A vocab-only GGUF as convert_hf_to_gguf.py writes a byte-level BPE vocabulary, plus
    tokenizer.chat_template."""
    path = os.path.join(OUT, "llama3.2.gguf")
    data = json.loads(open(tokenizer_json, encoding="utf-8").read())
    tok = Tokenizer.from_file(tokenizer_json)
    vocab = tok.get_vocab(with_added_tokens=True)
    reverse = {i: t for t, i in vocab.items()}
    special = {a["id"] for a in data["added_tokens"] if a["special"]}
    tokens = [reverse[i] for i in range(len(reverse))]
    types = [gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL for i in range(len(reverse))]
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("llama-bpe")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]])
    writer.add_bos_token_id(vocab[bos])
    writer.add_eos_token_id(vocab[eos])
    writer.add_add_bos_token(True)
    writer.add_chat_template(template)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    # Read back: the template and the token texts the engine must find there.
    reader = gguf.GGUFReader(path)
    field = reader.fields["tokenizer.chat_template"]
    assert bytes(field.parts[field.data[0]]).decode("utf-8") == template
    print(f"llama3.2.gguf: {os.path.getsize(path)} bytes", file=sys.stderr)
    return os.path.relpath(path, OUT)


# --- Jinja feature cases ------------------------------------------------------------------

MESSAGES = [msg("system", "Be brief."), msg("user", "Hi"), msg("assistant", "Hello"), msg("user", "Bye")]

JINJA_CASES = [
    # whitespace control: trim_blocks, lstrip_blocks, -, +, comments, raw, trailing newline
    ("  {% if true %}\n  x\n  {% endif %}\n  y\n", {}),
    ("a\n{# comment #}\nb\n", {}),
    ("a  {#- c -#}  b", {}),
    ("a\n  {%- if true -%}\n  b  \n  {%- endif %}\nc", {}),
    ("a\n    {%+ if true %}b{% endif +%}\nc", {}),
    ("{{ 'x' }}\n{{ 'y' }}\n", {}),
    ("x  {% if true %}y{% endif %}  z", {}),
    ("\t{% for i in [1, 2] %}\n\t{{ i }}\n\t{% endfor %}\n", {}),
    ("a\r\nb\rc{% if true %}\r\nd{% endif %}", {}),
    ("{% raw %}{{ not rendered }} {% if %}{% endraw %}!", {}),
    ("{{- '  a  ' -}}   {{ 'b' }}", {}),
    ("line1\n\n{%- set x = 1 %}\n\nline2", {}),
    # literals and printing
    ("{{ 'It\\'s' }} {{ \"say \\\"hi\\\"\" }} {{ 'a\\tb\\u00e9\\x41\\n' }} {{ 'a' 'b' \"c\" }}", {}),
    ("{{ none }} {{ true }} {{ False }} {{ None }} {{ 42 }} {{ -7 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }}", {}),
    ("{{ 1.0 }} {{ 1e20 }} {{ 1e16 }} {{ 1.5e-5 }} {{ 0.1 + 0.2 }} {{ 10 / 3 }} {{ 2.0 ** 0.5 }} {{ -0.0 }}", {}),
    ("{{ 9999999999999998.0 }} {{ 1e15 }} {{ 123456789012345678.0 }} {{ 0.0001 }} {{ 0.00001234 }} {{ 5e-324 }} {{ 1.7976931348623157e308 }} {{ 1e100 }} {{ 100.0 }} {{ -1e-10 }} {{ 1234567890123456.7 }} {{ 2 ** 0.5 * 1e20 }}", {}),
    ("{{ [1, 'a', none, true, 1.5, [2], {'k': 'v'}] }} {{ (1, 'x') }} {{ (1,) }} {{ () }}", {}),
    ("{{ x }}", {"x": [1, "a'b", 'a"b', "a'\"b", "\n\\é\u2028\x00\x7f"]}),
    ("{{ {'b': 1, 'a': [1, 2]} }} {{ {} }} {{ [] }}", {}),
    # arithmetic and operators
    ("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 2 ** 10 }}", {}),
    ("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 10 - 2 - 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 7 / 2 }} {{ 6 / 2 }}", {}),
    ("{{ 'ab' * 3 }}|{{ 2 * 'ab' }}|{{ 'ab' * -1 }}|{{ [1] * 2 }}|{{ [1] + [2] }}|{{ true + 1 }}|{{ 'a' + 'b' }}", {}),
    ("{{ 'x' ~ 1 ~ none ~ true ~ 1.5 ~ [1] ~ undefined_name }}", {}),
    ("{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' == 'a' }} {{ [1, 2] == [1, 2] }} {{ {'a': 1} == {'a': 1.0} }} {{ [1] == (1,) }}", {}),
    ("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }} {{ 2 >= 2.0 }} {{ 1 != 2 }}", {}),
    ("{{ 'a' in 'cat' }} {{ 'x' not in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 1 in {'1': 2} }}", {}),
    ("{{ true and 'x' }} {{ false or 0 or 'y' }} {{ none or [] }} {{ not none }} {{ not 1 == 2 }} {{ 0 and 1 }}", {}),
    ("{{ 'yes' if 1 else 'no' }} {{ 'yes' if 0 else 'no' }} [{{ 'only' if false }}] {{ 'a' if false else 'b' if true else 'c' }}", {}),
    # variables, attributes, items, slices
    ("{{ m.role }} {{ m['content'] }} {{ m.missing }}|{{ m['missing'] }}|{{ l[0] }} {{ l[-1] }} {{ l[9] }}|{{ l.0 }}", {"m": msg("user", "hi"), "l": [1, 2, 3]}),
    ("{{ s[0] }} {{ s[-1] }} {{ s[1:] }} {{ s[:-1] }} {{ s[::-1] }} {{ s[::2] }} {{ s[10:] }}|{{ l[1:] }} {{ l[:5] }} {{ l[-2:] }} {{ l[::-1] }}", {"s": "héllo", "l": [1, 2, 3]}),
    ("{{ messages[1:] }} {{ messages[-1].content }} {{ (messages | length) - 1 }}", {"messages": MESSAGES}),
    ("{{ d.items is callable }} {{ d.keys is defined }} {{ d['items'] is callable }} {{ d.x }}", {"d": {"x": 1}}),
    ("{{ x is defined }} {{ x is undefined }} {{ m.nope is defined }} {{ x }}|{{ x | length }}|{{ x | trim }}|{{ 'a' in x }}", {"m": {}}),
    ("{% for c in x %}{{ c }}{% else %}empty{% endfor %} {{ x == x }} {{ x == none }} {{ x is none }} {{ x | default('dflt') }}", {}),
    # statements
    ("{% if a %}A{% elif b %}B{% elif c %}C{% else %}D{% endif %}", {"b": 0, "c": "yes"}),
    ("{% for x in [3, 1, 2] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}:{{ x }} {% endfor %}", {}),
    ("{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a', 'b') }},{% endfor %}", {}),
    ("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }}{{ loop.last }} {% endfor %}", {}),
    ("{% for x in [] %}no{% else %}else branch{% endfor %}{% for x in [1] if x > 5 %}no{% else %}filtered else{% endfor %}", {}),
    ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %} {% for k, v in d | items %}{{ k }}{% endfor %} {% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("{% for key, val in d.items() if key != 'return' %}{{ key }}:{{ val|tojson }}{{ ', ' if not loop.last }}{% endfor %}", {"d": {"name": "f", "return": 1, "p": [1]}}),
    ("{% for a, b in [[1, 2], [3, 4]] %}{{ a }}{{ b }}{% endfor %} {% for c in 'héy' %}[{{ c }}]{% endfor %}", {}),
    ("{% for x in [1, 2, 3] %}{% if x == 2 %}{% continue %}{% endif %}{{ x }}{% endfor %}|{% for x in [1, 2, 3] %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("{% for i in [1, 2] %}{% for j in 'ab' %}{{ loop.index }}{{ i }}{{ j }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}[{{ x }}]{% endfor %}{{ x }}", {}),
    ("{% for i in range(3) %}{% if i == 0 %}{% set y = 'a' %}{% endif %}[{{ y }}]{% endfor %}", {}),
    ("{% if true %}{% set x = 'set in if' %}{% endif %}{{ x }}", {}),
    ("{% set ns = namespace(total=0, seen=false) %}{% for i in range(4) %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }} {{ ns.seen }} {{ ns }}", {}),
    ("{% set ns = namespace() %}{% set ns.a = 'x' %}{{ ns.a }}{{ ns.b }}", {}),
    ("{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = ('p', 'q') %}{{ t }} {% set l = [1, 2] %}{{ l }}", {}),
    ("{% set block %}a{{ 1 + 1 }}b{% endset %}{{ block }}|{{ block | length }}", {}),
    ("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{{ suffix }}{% endmacro %}{% set suffix = '~' %}{{ greet('Ann') }} {{ greet('Bo', punct='?') }} {{ greet(name='Cy') }}", {}),
    ("{% with a = 1, b = 'two' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]", {}),
    ("{% generation %}tracked {{ 1 }}{% endgeneration %}", {}),
    ("{% if not add_generation_prompt is defined %}{% set add_generation_prompt = 'x' %}{% endif %}{{ add_generation_prompt }} {{ tools }} {{ documents }} {{ messages | length }}", {}),
    ("{% filter upper %}abc {{ 'd' }}{% endfilter %}|{% filter replace('a', 'b') | title %}aaa x{% endfilter %}|{%- filter trim -%}  x  {%- endfilter -%}|", {}),
    # dict keys of any hashable type (ByteDance Seed-OSS uses int keys)
    ("{% set d = {0: 'zero', 512: 128, 'k': 1, 2.0: 'two', true: 'one', none: 'n', (1, 2): 't'} %}{{ d[512] }} {{ d[2] }} {{ d[1] }} {{ d[none] }} {{ d }} {{ d|tojson if false }} {{ 512 in d }} {{ 2 in d }} {{ 'x' in d }}", {}),
    ("{{ [1] in {'a': 1} }}", {}),
    ("{{ {1: 'x', 'b': 2, 1.5: 3, true: 4, none: 5}|tojson }} {{ {0: 'a'}.get(0) }} {% for k, v in {3: 'c'}.items() %}{{ k + 1 }}{{ v }}{% endfor %}", {}),
    ("{{ {[1]: 2} }}", {}),
    ("{{ {'a': 1}[[1]] }}|", {}),
    # generators (map, select, unique, items, ...) are one-pass, always true, without len
    ("{% set g = [1, 2, 3]|select('odd') %}{{ g is iterable }} {{ g is sequence }} {{ 'T' if g else 'F' }} {% for x in g %}{{ x }}{% endfor %}|{% for x in g %}{{ x }}{% endfor %}|", {}),
    ("{% set g = [1, 2, 3]|map('string') %}{{ g|first }} {{ g|list }} {{ 'T' if []|select else 'F' }} {{ 'T' if []|unique else 'F' }} {{ 'T' if {}|items else 'F' }}", {}),
    ("{{ 2 in [1, 2, 3]|select }} {% set g = [1, 2, 3]|select %}{{ 2 in g }}{{ g|list }} {{ ([1, 2]|select)[0] }}|{{ [1, 2]|select|sum }} {{ [1, 2]|select|join(',') }} {{ [2, 1]|select|sort }}", {}),
    ("{% for x in [1, 2, 3]|select %}{{ loop.length }}{{ loop.last }}{% endfor %} {{ [3, 1]|reverse|list }} {{ 'T' if []|reverse else 'F' }} {{ {'a': 1, 'b': 2}|reverse|list }} {{ ([1, 2]|select)|reverse }}", {}),
    ("{{ [1, 2]|select|length }}", {}),
    ("{{ [1, 2]|select|last }}", {}),
    ("{{ [1, 2]|select|tojson }}", {}),
    ("{{ [1]|reverse|length }}", {}),
    # dict views
    ("{{ d.keys() }} {{ d.values() }} {{ d.items() }} {{ d.items()|length }} {{ 'T' if {}.keys() else 'F' }} {{ 'a' in d.keys() }} {{ ('a', 1) in d.items() }} {{ d.keys() == {'a': 2}.keys() }} {{ d.keys() is sequence }}", {"d": {"a": 1}}),
    ("{{ d.keys()|tojson }}", {"d": {"a": 1}}),
    # Markup from |safe and |escape: what is added to it with + is escaped, ~ is plain
    ("{{ 'a<'|safe + '<b>' }}|{{ '<c>' + 'd'|safe }}|{{ ('x'|safe) ~ '<y>' }}|{{ '<'|e + '<' }}|{{ ('<'|safe)|e }}|{{ '<'|forceescape|forceescape }}", {}),
    ("{{ ('a'|safe + '<')|length }} {{ ('<a>'|safe).upper() }} {{ ('<a>'|safe)|trim + '<' }} {{ ('<a>'|safe)|string + '<' }} {{ ('a'|safe) == 'a' }} {{ ('x'|safe) * 2 + '<' }}", {}),
    ("{{ 'a<'|safe }} {{ ('a<'|safe)|tojson }} {{ ['x'|safe] }} {{ 'x'|safe is string }} {{ 'x'|safe is escaped }} {{ 'x' is escaped }} {{ ('a'|safe).split('b') }} {{ ('<a>'|safe)[0] + '<' }} {{ ('<a>'|safe)[0:2] + '<' }}", {}),
    ("{{ ('<'|safe).replace('<', '>') + '<' }} {{ ('-'|safe).join(['<', 'b'|safe]) }} {{ 'x'|safe ~ 1 }} {{ [1, 2]|map('string')|join(',') }}", {}),
    ("{{ ('a'|safe) + 1 }}", {}),
    ("{{ '<b>'|safe + 'Use ' + t.name + '\n'|safe + t|tojson }}", {"t": {"name": "a<b", "d": "\"q\""}}),
    # filters
    ("{{ '  x \\n'|trim }}|{{ 'xxaxx'|trim('x') }}|{{ '\u3000x\u00a0'|trim }}|{{ '\u200bx'|trim|length }}", {}),
    ("{{ 'héllo'|length }} {{ [1, 2]|count }} {{ {'a': 1}|length }} {{ '👨‍👩‍👧'|length }}", {}),
    ("{{ [1, 2, 3]|first }} {{ []|first }}|{{ 'abc'|last }} {{ [1, 2]|last }} {{ 'abc'|first }}", {}),
    ("{{ 'Hello wORLD'|upper }} {{ 'Hello wORLD'|lower }} {{ 'hello world'|capitalize }} {{ 'hELLO'|capitalize }} {{ 'ß'|upper }}", {}),
    ("{{ 'hello wORLD-x (y) [z]'|title }}|{{ \"they're bill's\"|title }}|{{ 'a  b\\tc'|title }}", {}),
    ("{{ 'aXbXc'|replace('X', '-') }} {{ 'aXbXc'|replace('X', '', 1) }} {{ 'abc'|replace('', '.') }}", {}),
    ("{{ [1, 'a', none]|join(', ') }} {{ ['x', 'y']|join }} {{ [{'n': 'a'}, {'n': 'b'}]|join('+', attribute='n') }}", {}),
    ("{{ x|default('d') }} {{ ''|default('d') }} {{ ''|default('d', true) }} {{ 0|d('zero', boolean=true) }} {{ none|default('n') }}", {}),
    ("{{ x|tojson }}", {"x": {"a": [1, 2.5, "é\n\"\\<>&'", None, True, False], "b": {}, "c": [], "d": "\u2028\x01\x7f"}}),
    ("{{ x|tojson(indent=2) }}", {"x": {"a": [1, {"b": []}], "c": {}, "d": "e"}}),
    ("{{ x|tojson(indent=4) }}|{{ [1, [2]]|tojson(indent=0) }}|{{ []|tojson(indent=2) }}", {"x": {"name": "f", "parameters": {"type": "object"}}}),
    ("{{ [1, 2]|tojson(separators=(',', ':')) }} {{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }} {{ 'é😀'|tojson(ensure_ascii=true) }}", {}),
    ("{{ none|tojson }} {{ 'x'|tojson }} {{ 1.0|tojson }} {{ 3|tojson }} {{ (1, 2)|tojson }} {{ 1e100|tojson }}", {}),
    ("{{ 1|string }}{{ none|string }}{{ [1]|string }}{{ x|string }}|{{ 'abc'|list }} {{ {'a': 1}|list }} {{ (1, 2)|list }}", {}),
    ("{{ '12'|int }} {{ ' 7 '|int }} {{ '1.9'|int }} {{ 'x'|int }} {{ 'x'|int(5) }} {{ 3.99|int }} {{ -3.99|int }} {{ true|int }} {{ '1_000'|int }}", {}),
    ("{{ '1.5'|float }} {{ 'x'|float }} {{ 3|float }} {{ ' 2e3 '|float }} {{ 'inf'|float }}", {}),
    ("{{ -3|abs }} {{ -2.5|abs }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 5|round }} {{ 2.1|round(0, 'ceil') }} {{ 2.9|round(1, 'floor') }}", {}),
    ("{{ {'a': 1, 'b': 2}|items|list }} {{ [3, 1, 3, 2]|unique|list }} {{ ['A', 'a', 'b']|unique|list }} {{ [1, 2]|reverse|list }} {{ 'abc'|reverse }}", {}),
    ("{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'a']|sort }} {{ ['b', 'A', 'a']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(reverse=true) }} {{ l|sort(attribute='n')|map(attribute='n')|list }}", {"l": [{"n": 2}, {"n": 1}]}),
    ("{{ [1, 5, 3]|max }} {{ [1, 5, 3]|min }} {{ ['b', 'A']|max }} {{ [1, 2, 3]|sum }} {{ l|sum(attribute='n') }} {{ [[1], [2]]|sum(start=[]) }}", {"l": [{"n": 2}, {"n": 1}]}),
    ("{{ msgs|map(attribute='role')|list }} {{ msgs|map(attribute='x', default='?')|list }} {{ ['a', 'B']|map('upper')|list }} {{ ['a,b']|map('replace', ',', ';')|list }}", {"msgs": MESSAGES}),
    ("{{ msgs|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }} {{ msgs|rejectattr('role', 'eq', 'user')|list|length }} {{ msgs|selectattr('content')|list|length }}", {"msgs": MESSAGES}),
    ("{{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('odd')|list }} {{ [0, 1, '', 'a']|select|list }} {{ ['x', 'code', 'y']|reject('equalto', 'code')|join(', ') }} {{ [1, 2, 3]|select('>', 1)|list }}", {}),
    ("{{ 'a\\nb\\n'|indent(2) }}|{{ 'a\\n\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\nb'|indent('> ') }}|{{ 'x'|indent }}", {}),
    ("{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|escape }} {{ '<i>'|safe }}", {}),
    ("{{ {'b': 2, 'a': 1}|dictsort }} {{ {'b': 1, 'a': 2}|dictsort(by='value') }}", {}),
    ("{% set ns = namespace(v=3) %}{{ d|attr('items') is callable }} {{ d|attr('a') }}|{{ ns|attr('v') }}", {"d": {"a": 1}}),
    # tests
    ("{{ 3 is odd }} {{ 3 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ none is none }} {{ 0 is none }} {{ 'a' is not none }}", {}),
    ("{{ 1 is number }} {{ true is number }} {{ true is integer }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ false is false }} {{ 1 is true }}", {}),
    ("{{ 'a' is string }} {{ 'a' is sequence }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ none is iterable }} {{ x is iterable }} {{ x is sequence }} {{ d is mapping }} {{ [] is mapping }}", {"d": {}}),
    ("{{ 'abc' is lower }} {{ 'aBc' is lower }} {{ 'ABC' is upper }} {{ 2 is in [1, 2] }} {{ 2 is eq 2 }} {{ 2 is ne 2 }} {{ 2 is lt 3 }} {{ 2 is ge 3 }} {{ 2 is greaterthan 1 }} {{ 2 is sameas 2 }} {{ none is sameas none }}", {}),
    ("{{ range is callable }} {{ 'upper' is filter }} {{ 'nosuch' is filter }} {{ 'odd' is test }} {{ x is callable }}", {}),
    # methods
    ("{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n\\na\\n'.lstrip('\\n') }}|{{ 'a\\n\\n'.rstrip() }}|{{ 'ab'.lstrip('a') }}", {}),
    ("{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(' ', 1) }} {{ ' a b c '.split(none, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ''.split() }} {{ ''.split(',') }}", {}),
    ("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith('bc') }} {{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.endswith(('x', 'y')) }}", {}),
    ("{{ 'Hello wORLD-x'.title() }} {{ \"they're\".title() }} {{ 'abc'.upper() }} {{ 'ABC'.lower() }} {{ 'hELLO'.capitalize() }}", {}),
    ("{{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '', 1) }} {{ 'abcabc'.find('c') }} {{ 'abcabc'.rfind('c') }} {{ 'abc'.find('z') }} {{ 'aaa'.count('a') }}", {}),
    ("{{ ', '.join(['a', 'b']) }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ '123'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ 'ab'.islower() }} {{ 'pre_x'.removeprefix('pre_') }}", {}),
    ("{{ '{} and {}'.format(1, 'b') }} {{ '{0}{1}{0}'.format('x', 'y') }} {{ '{name}!'.format(name='Ann') }} {{ '{{}}'.format() }}", {}),
    ("{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }}", {"d": {"a": 1, "b": [2]}}),
    ("{{ [1, 2, 1].count(1) }} {{ [1, 2].index(2) }}", {}),
    # globals
    ("{{ range(3)|list }} {{ range(2, 10, 3)|list }} {{ range(5, 0, -2)|list }} {{ range(0)|list }} {{ range(3)|length }}", {}),
    ("{{ dict(a=1, b='x') }} {{ namespace(a=1).a }} {{ strftime_now('%d %b %Y') }} {{ strftime_now('%A %B %-d %H:%M:%S %j %y %a %I%p %m %%') }}", {}),
    # strings are code points
    ("{{ s|length }} {{ s[1] }} {{ s[0:2] }} {{ 'e\u0301' == '\u00e9' }} {{ '\u00e9' in 'cafe\u0301' }}", {"s": "e\u0301\U0001f44b"}),
    # errors
    ("{{ raise_exception('Roles must alternate!') }}", {}),
    ("line1\n{% if true %}\n{{ raise_exception('deep ' ~ 'message') }}\n{% endif %}", {}),
    ("{{ foo.bar }}", {}),
    ("{{ d.foo.bar }}", {"d": {}}),
    ("{{ foo['x'] }}", {}),
    ("{{ foo + 'x' }}", {}),
    ("{{ 'a' + 1 }}", {}),
    ("{{ 1 < 'a' }}", {}),
    ("{{ 10 // 0 }}", {}),
    ("{{ x.append(1) }}", {"x": []}),
    ("{{ undefined_function(1) }}", {}),
    ("{{ 1(2) }}", {}),
    ("{{ 'x' in 1 }}", {}),
    ("{{ messages[0].content }}", {"messages": []}),
    ("{% for a, b in [[1, 2, 3]] %}{% endfor %}", {}),
    ("{% set x = 1 %}{% set x.y = 2 %}", {}),
    ("{% if true %}never closed", {}),
    ("{% for x in y %}{% endif %}", {}),
    ("{{ 'unterminated }}", {}),
    ("{{ 1 + }}", {}),
    ("{% nosuchtag %}", {}),
    ("{% break %}", {}),
    ("{# never closed", {}),
    ("{{ (1 }}", {}),
    ("{{ x|tojson }}", {"x": {"a": None}}),
]


def wild_cases(llama_cpp):
    """Other real templates, rendered by transformers' own render_jinja_template."""
    conversations = [
        ("system_user", [msg("system", "Be terse."), msg("user", "What is 2+2?")], True, [WEATHER_TOOL]),
        ("multi_turn", CONVERSATIONS["multi_turn"], False, None),
        ("thinking_history", EXTRA["qwen3"][0][1], True, None),
    ]
    templates, cases = {}, []
    for file, variables in WILD_TEMPLATES.items():
        with open(os.path.join(llama_cpp, "models", "templates", file), encoding="utf-8") as f:
            source = f.read().replace("\r\n", "\n")
        templates[file] = source
        for conversation, messages, generation, tools in conversations:
            case = {"template": file, "conversation": conversation, "messages": messages,
                    "add_generation_prompt": generation, "variables": dict(variables, tools=tools)}
            try:
                rendered, _ = chat_utils.render_jinja_template(
                    conversations=[messages], tools=tools, chat_template=source, add_generation_prompt=generation,
                    bos_token="<s>", eos_token="</s>", **variables)
                case["text"] = rendered[0]
            except Exception as error:
                case["error"] = str(error)
            cases.append(case)
    return templates, cases


def jinja_cases():
    cases = []
    for template, variables in JINJA_CASES:
        context = {"messages": [], "add_generation_prompt": False, "tools": None, "documents": None}
        context.update(variables)
        case = {"template": template, "variables": variables}
        try:
            case["text"] = compiled(template).render(**context)
        except Exception as error:
            case["error"] = f"{type(error).__name__}: {error}"
        cases.append(case)
    return cases


def dump_lines(path, header, key, items):
    """One JSON value per line keeps the files readable in diffs."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("{\n")
        for name, value in header.items():
            f.write(f"{json.dumps(name)}: {json.dumps(value, ensure_ascii=False)},\n")
        f.write(f"{json.dumps(key)}: [\n")
        for i, item in enumerate(items):
            f.write(json.dumps(item, ensure_ascii=False) + ("," if i + 1 < len(items) else "") + "\n")
        f.write("]\n}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llama-cpp", help="a llama.cpp checkout to check the templates against")
    args = parser.parse_args()
    pin_date()
    if args.llama_cpp:
        check_llama_cpp(args.llama_cpp)

    with open(os.path.join(TEMPLATES, "SOURCES.md"), encoding="utf-8") as f:
        sources = f.read()
    tokenizer_paths = write_tokenizers()
    templates = {}
    conversations_used = {}
    cases = []
    for name, (family, bos, eos, form, _) in TEMPLATES_USED.items():
        assert f"`{name}.jinja`" in sources, f"{name}.jinja has no entry in templates/SOURCES.md"
        template = read_template(name)
        folder = write_model_folder(name, template, bos, eos, form)
        tokenizer = load_reference_tokenizer(folder, os.path.join(OUT, tokenizer_paths[family]))
        templates[name] = {"folder": os.path.relpath(folder, OUT), "tokenizer": tokenizer_paths[family],
                           "form": form, "bos_token": bos, "eos_token": eos}
        conversations = [(c, m, {}) for c, m in CONVERSATIONS.items()] + EXTRA.get(name, []) + TOOL_CASES.get(name, [])
        for conversation, messages, variables in conversations:
            assert conversations_used.setdefault(conversation, messages) == messages, conversation
            # Tool conversations only with the generation prompt (their text is long).
            for generation in (True,) if "tools" in variables else (True, False):
                cases.append(render_case(tokenizer, name, conversation, messages, generation, variables))
        rendered = sum(1 for c in cases if c["template"] == name and "text" in c)
        print(f"{name}: {rendered} rendered, {sum(1 for c in cases if c['template'] == name) - rendered} refused",
              file=sys.stderr)

    header = {
        "transformers_version": transformers.__version__,
        "jinja2_version": __import__("jinja2").__version__,
        "tokenizers_version": tokenizers.__version__,
        "date": DATE.strftime("%Y-%m-%d %H:%M:%S"),
        "templates": templates,
        "conversations": conversations_used,
        "precedence": write_precedence_folder(),
        "gguf": write_gguf(read_template("llama3.2"), os.path.join(OUT, tokenizer_paths["llama3"]),
                           "<|begin_of_text|>", "<|eot_id|>"),
    }
    dump_lines(os.path.join(OUT, "cases.json"), header, "cases", cases)
    if args.llama_cpp:
        wild_templates, wild = wild_cases(args.llama_cpp)
        dump_lines(os.path.join(OUT, "wild_cases.json"),
                   {"transformers_version": transformers.__version__, "date": header["date"],
                    "source": "llama.cpp models/templates/", "bos_token": "<s>", "eos_token": "</s>",
                    "templates": wild_templates}, "cases", wild)
        print(f"wild_cases.json: {len(wild)} cases", file=sys.stderr)
    semantic = jinja_cases()
    dump_lines(os.path.join(OUT, "jinja_cases.json"),
               {"transformers_version": transformers.__version__, "date": header["date"]}, "cases", semantic)
    print(f"cases.json: {len(cases)} cases; jinja_cases.json: {len(semantic)} cases "
          f"({sum(1 for c in semantic if 'error' in c)} errors)", file=sys.stderr)


if __name__ == "__main__":
    main()
