#!/usr/bin/env python3
"""Builds the tokenizer fixtures for the Swift tests and their expected ids and text.

Every tokenizer.json is built here (the HF hub is not needed) with the real `tokenizers`
library, configured the way the real families are configured:

  gpt2            ByteLevel pre-tokenizer (GPT-2 regex), added tokens with lstrip/rstrip/single_word
  llama3          Split(Llama 3 regex) + ByteLevel, ignore_merges, TemplateProcessing BOS
  qwen2           NFC + Split(Qwen2 regex) + ByteLevel, a normalized added token
  llama2          SentencePiece BPE (trained with sentencepiece) converted as HF converts Llama 2:
                  Prepend+Replace normalizer, byte fallback, Replace/ByteFallback/Fuse/Strip decoder,
                  merges written the older way ("left right" strings)
  mistral         the same kind of SentencePiece BPE with a Metaspace(first, split=false) pre-tokenizer
  metaspace-unk   NFKC + regex Replace normalizer, Metaspace(always, split), fused <unk>, Metaspace decoder
  metaspace-unk-unfused   the same vocabulary, unfused <unk>, Metaspace(never, no split)
  roberta         ByteLevel(add_prefix_space), RobertaProcessing, <mask> with lstrip
  char            char_vocab.json (our own format; expectations computed from Python code points)

The expectations (ids with and without special tokens, decoded text with and without special
tokens, decoded text of random id sequences, pre-tokenizer pieces, normalized strings, decoded
token lists, and the
Unicode classes the regex engine of HF `tokenizers` (Oniguruma) uses) are written next to them.
Everything is committed, so `swift test` needs no Python. Run from the repository root:

    python3 training/make_tokenizer_fixtures.py

Requires tokenizers 0.23.3 and sentencepiece. Training is not bit-for-bit reproducible across
versions; the expectations always match the tokenizer.json files written in the same run.
"""
import json
import os
import random
import sys
import tempfile

import sentencepiece as spm
import tokenizers
from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors, trainers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "EngineTests", "Fixtures", "tokenizers")
CORPUS = os.environ.get("DEPTHSCOPE_CORPUS",
                        os.path.join(ROOT, "..", "shared", "data", "tinyshakespeare.txt"))

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN2_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
# Two more real-world patterns, only used for the pre-tokenizer expectations.
GPT4O_PATTERN = r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
DEEPSEEK_PATTERN = r"""[\r\n]|\s?[A-Za-z\u00C0-\u024F]+|\s?[!-/:-~！-／：-～‘-‟　-。]+|\s+$|[一-龥ࠀ-一가-퟿]+|\p{N}+"""

# A multilingual sample written for these fixtures (added to the training text so the small
# vocabularies have merges outside ASCII).
MULTILINGUAL = """\
Le café est déjà prêt ; où est la crème brûlée ? Ça coûte 3,50 €.
Die Straße ist naß, und die Bäume blühen früh. Grüß Gott!
El niño comió piñas en el año 2023. ¿Qué tal? ¡Olé!
Съешь же ещё этих мягких французских булок, да выпей чаю.
Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Καλημέρα κόσμε.
我们今天去公园散步，天气很好。你好，世界！中文文本测试。
日本語のテキストです。東京は大きい都市です。カタカナとひらがな。
한국어 텍스트입니다. 안녕하세요, 세계!
مرحبا بالعالم، هذا نص عربي. الأرقام ١٢٣٤٥.
नमस्ते दुनिया, यह हिंदी पाठ है।
Emoji: 👋🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ 🙂 🎉 — “quotes” and ‘single’ … done.
"""

SHAKESPEARE_CHUNK_CHARS = 1500


def read_corpus():
    with open(CORPUS, encoding="utf-8") as f:
        text = f.read()
    split = int(len(text) * 0.9)
    return text[:split], text[split:]


def hard_texts(validation):
    """The texts every tokenizer is checked on."""
    return [
        "Hello world",
        "",
        " ",
        "   ",
        "\n",
        "\n\n\n",
        "\t",
        "\t\tindented\twith\ttabs\t",
        "line one\r\nline two\r\n\r\nline four\r",
        "\r\r\n\n\r \r\n",
        "  leading and trailing  ",
        "multiple     spaces   between      words",
        " " * 40 + "x" + " " * 17,
        "\n" * 7 + "  \n  \t\n",
        "end with newline\n",
        "café naïve résumé Ångström",
        "cafe\u0301 nai\u0308ve re\u0301sume\u0301 A\u030angstro\u0308m",
        "e\u0301\u0301 \u0301alone o\u0302\u0323 \u1e69",
        "日本語のテキスト、中文文本。한국어 텍스트",
        "emoji 👋🏽 family 👨‍👩‍👧‍👦 flag 🇫🇷 heart ❤️ keycap 1️⃣",
        "I'M YOU'RE WE'VE THEY'LL SHE'D IT'S DON'T",
        "it's we're they've I'm you'll he'd 'sweet' 'S 'ſ 'K 'Ll",
        "don't''s ''re '",
        "digits 1234567890 and 3.14159 and 1,000,000 and 0x7F",
        "arabic digits ١٢٣٤٥٦ devanagari ४२ fullwidth １２３ circled ①② roman Ⅻ superscript x²³",
        "12345678901234567890123",
        "!!!???...---___***",
        "(parens) [brackets] {braces} <angles> \"quotes\" 'single'",
        "email@example.com https://example.org/path?q=1&r=two#frag",
        "def f(x):\n    return x ** 2  # square\n\n\tpass\n",
        "Ελληνικά Русский עברית العربية हिन्दी ไทย ქართული",
        "\u00a0nbsp\u2003em space\u3000ideographic\u2028line sep\u0085nel",
        "zero\u200bwidth\u200djoiner\u200cnon\ufeffbom",
        "controls \u0000 \u0001 \u0007 \u001b[0m \u007f \u009f",
        "rare 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ꙮ 𓀀 \U0001f9ec \ufffd \U0010fffd",
        "ǅungla ǈ ǋ ß ẞ İstanbul ﬁne ﬀ Ⅷ ㎏",
        "ALL CAPS SHOUTING! and MiXeD CaSe",
        "a",
        "Z",
        "ÿ",
        "ĠĊ",
        "▁ leading metaspace ▁▁ and  ▁x",
        "<0x41> looks like a byte token",
        "<unk> <s> </s> look special but may not be",
        MULTILINGUAL,
        validation[:SHAKESPEARE_CHUNK_CHARS],
    ]


def special_texts(specials):
    """Texts that embed the tokenizer's own added tokens."""
    if not specials:
        return []
    a = specials[0]
    b = specials[1] if len(specials) > 1 else specials[0]
    return [
        a,
        a + b,
        f"{a}Hello world{b}",
        f" {a} spaced {b} ",
        f"x{a}{a}y",
        f"{a}\n{b}\n\n",
        f"  {a}  ",
        f"unfinished {a[:-1]} token",
        f"{a}café{b}日本",
    ]


def ids_cases(tok, texts):
    """Expected ids and text. To keep the files small, `ids_with_special` is stored as the
    tokens the post-processor adds around `ids` (checked here), and a decoded text equal to
    the input is stored as null."""
    cases = []
    for text in texts:
        plain = tok.encode(text, add_special_tokens=False).ids
        special = tok.encode(text, add_special_tokens=True).ids
        prefix_len = next(i for i in range(len(special) + 1)
                          if special[i:i + len(plain)] == plain)
        prefix, suffix = special[:prefix_len], special[prefix_len + len(plain):]
        assert prefix + plain + suffix == special
        decoded = tok.decode(special, skip_special_tokens=False)
        decoded_skip = tok.decode(special, skip_special_tokens=True)
        cases.append({
            "text": text,
            "ids": plain,
            "special_prefix": prefix,
            "special_suffix": suffix,
            "decoded": None if decoded == text else decoded,
            "decoded_skip_special": None if decoded_skip == text else decoded_skip,
        })
    return cases


def decode_cases(tok, rng, extra):
    """Arbitrary id sequences (random ones and given ones): what HF decodes them to."""
    size = tok.get_vocab_size(with_added_tokens=True)
    sequences = [list(seq) for seq in extra]
    for length in [1, 1, 2, 3, 5, 8, 13, 21]:
        for _ in range(3):
            sequences.append([rng.randrange(size) for _ in range(length)])
    return [{
        "ids": ids,
        "text": tok.decode(ids, skip_special_tokens=False),
        "text_skip_special": tok.decode(ids, skip_special_tokens=True),
    } for ids in sequences]


def byte_token_ids(tok, hexes):
    return [tok.token_to_id(f"<0x{h}>") for h in hexes]


def write(name, tok, texts, rng, extra_decodes=(), legacy_merges=False):
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    text = tok.to_str()
    if legacy_merges:
        # Older files (Llama 2's among them) write each merge as one "left right" string.
        data = json.loads(text)
        data["model"]["merges"] = [" ".join(pair) for pair in data["model"]["merges"]]
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # The test loads exactly the file the expectations come from.
    tok = Tokenizer.from_str(text)
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(text)
    specials = [t.content for t in tok.get_added_tokens_decoder().values() if t.special]
    expected = {
        "tokenizers_version": tokenizers.__version__,
        "cases": ids_cases(tok, texts + special_texts(specials)),
        "decode_cases": decode_cases(tok, rng, extra_decodes),
    }
    dump(os.path.join(folder, "expected.json"), expected)
    print(f"{name}: vocab {tok.get_vocab_size()}, {len(expected['cases'])} cases", file=sys.stderr)


def dump(path, obj):
    # One JSON value per line keeps the files small and readable in diffs.
    with open(path, "w", encoding="utf-8") as f:
        if isinstance(obj, dict):
            f.write("{\n")
            items = list(obj.items())
            for i, (key, value) in enumerate(items):
                sep = "," if i + 1 < len(items) else ""
                if isinstance(value, list):
                    f.write(f"{json.dumps(key)}: [\n")
                    for j, item in enumerate(value):
                        s = "," if j + 1 < len(value) else ""
                        f.write(json.dumps(item, ensure_ascii=False) + s + "\n")
                    f.write(f"]{sep}\n")
                else:
                    f.write(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{sep}\n")
            f.write("}\n")
        else:
            json.dump(obj, f, ensure_ascii=False)


def training_text(train, chars=400_000):
    return [train[:chars], MULTILINGUAL * 20]


def bpe_trainer(vocab_size, specials=(), alphabet=()):
    return trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(specials),
                               initial_alphabet=list(alphabet), show_progress=False)


def lines(texts):
    for text in texts:
        yield from text.splitlines(keepends=True)


# --- byte-level family -------------------------------------------------------------------

def make_gpt2(train, texts, rng):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(lines(training_text(train)),
                            bpe_trainer(1000, ["<|endoftext|>"], pre_tokenizers.ByteLevel.alphabet()))
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, normalized=False, special=True)])
    tok.add_tokens([
        AddedToken("[rs]", rstrip=True, normalized=False),
        AddedToken("word", single_word=True, normalized=True),
        AddedToken("ü", normalized=False),
        AddedToken("two words", normalized=False),
    ])
    extra = texts + [
        "<mask> hi  <mask>x <mask>",
        "a [rs]   b [rs]\n\nc",
        "word words sword word, (word) 'word' word_ word1 wordé ́word",
        "über ü two words twowords two  words",
        "<|endoftext|><mask>[rs] <|endoftext|>",
    ]
    ids = lambda *toks: [tok.token_to_id(t) for t in toks]
    decodes = [
        ids("Ã", "¤"),                    # "ä" split over two byte-level tokens
        ids("Ã"),                         # half a character
        ids("Ã", "Ã", "¤"),               # invalid byte followed by a valid pair
        ids("ü"),                         # added token whose chars are byte-level chars
        ids("two words", "<|endoftext|>", "<mask>"),
        ids("ð", "Ł", "ĺ"),               # 3 of 4 bytes of an emoji
    ]
    write("gpt2", tok, extra, rng, decodes)


def make_llama3(train, texts, rng):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(lines(training_text(train)),
                            bpe_trainer(1000, [], pre_tokenizers.ByteLevel.alphabet()))
    # Llama 3 sets ignore_merges, and its vocabulary has words the merges never build.
    # Add such words so the flag changes the ids on the test texts.
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    for word in ["ĠShakespeare", "ĠROMEO", "Ġunmergeable", "Hello", "ĠÃ©t"]:
        if word not in vocab:
            vocab[word] = len(vocab)
    data["model"]["ignore_merges"] = True
    tok = Tokenizer.from_str(json.dumps(data))
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    tok.add_special_tokens(specials)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                      pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    extra = texts + [
        "Shakespeare wrote ROMEO, unmergeable Hello Hellothere été",
        "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>",
    ]
    write("llama3", tok, extra, rng)


def make_qwen2(train, texts, rng):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(lines(training_text(train)),
                            bpe_trainer(1000, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                        pre_tokenizers.ByteLevel.alphabet()))
    # A normalized added token written decomposed: HF matches its NFC form in normalized text.
    tok.add_tokens([AddedToken("e\u0301clair", normalized=True)])
    extra = texts + [
        "un éclair, un e\u0301clair, ÉCLAIR, éclairs",
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>",
    ]
    write("qwen2", tok, extra, rng)


def make_roberta(train, texts, rng):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, trim_offsets=True)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(lines(training_text(train, 100_000)),
                            bpe_trainer(350, ["<s>", "<pad>", "</s>", "<unk>"],
                                        pre_tokenizers.ByteLevel.alphabet()))
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, normalized=False, special=True)])
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")),
                                                      ("<s>", tok.token_to_id("<s>")))
    extra = texts[:20] + ["The <mask> sat.", "<mask>", "x  <mask>  y", "<s>a</s>"]
    write("roberta", tok, extra, rng)


# --- SentencePiece family ----------------------------------------------------------------

def train_sentencepiece(train, vocab_size):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(train[:300_000])
            f.write(MULTILINGUAL * 20)
        spm.SentencePieceTrainer.train(
            input=path, model_prefix=os.path.join(tmp, "sp"), vocab_size=vocab_size,
            model_type="bpe", byte_fallback=True, character_coverage=0.9995, split_digits=True,
            allow_whitespace_only_pieces=True, remove_extra_whitespaces=False,
            normalization_rule_name="identity", max_sentence_length=1_000_000, minloglevel=2)
        return spm.SentencePieceProcessor(model_file=os.path.join(tmp, "sp.model"))


def sentencepiece_vocab_and_merges(sp):
    """vocab and merges of a SentencePiece BPE model, derived as HF's converter derives them:
    every split of a piece into two pieces is a merge, ordered by the merged piece's score."""
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    merges = []
    for piece, pid in vocab.items():
        if sp.is_control(pid) or sp.is_unknown(pid) or sp.is_byte(pid):
            continue
        local = []
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in vocab and right in vocab:
                local.append((left, right))
        local.sort(key=lambda pair: (vocab[pair[0]], vocab[pair[1]]))
        merges.extend((left, right, -sp.get_score(pid)) for left, right in local)
    merges.sort(key=lambda m: m[2])
    return vocab, [[left, right] for left, right, _ in merges]


def sentencepiece_tokenizer(sp, normalizer, pre_tokenizer):
    vocab, merges = sentencepiece_vocab_and_merges(sp)
    special = lambda content, i: {"id": i, "content": content, "single_word": False,
                                  "lstrip": False, "rstrip": False, "normalized": False,
                                  "special": True}
    data = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special("<unk>", 0), special("<s>", 1), special("</s>", 2)],
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>",
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    return Tokenizer.from_str(json.dumps(data))


def sentencepiece_decodes(tok):
    b = lambda *hexes: byte_token_ids(tok, hexes)
    t = tok.token_to_id
    return [
        b("E4", "BD", "A0"),                       # a CJK character as three byte tokens
        b("E4", "BD"),                             # an unfinished character
        b("E2", "82", "AC", "FF"),                 # a valid character then an invalid byte
        b("C3") + [t("<s>")] + b("BC"),            # a special token inside a byte run
        [t("▁"), t("▁"), t("<s>"), t("▁")],
        b("0A", "0A") + [t("▁")],
        [t("<s>"), t("▁")] + b("F0", "9F", "98", "80") + [t("</s>")],
    ]


def make_llama2(train, texts, rng):
    sp = train_sentencepiece(train, 1000)
    normalizer = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
    ]}
    tok = sentencepiece_tokenizer(sp, normalizer, None)
    # A normalized added token: HF matches it in the normalized text ("▁xyzzy").
    tok.add_tokens([AddedToken("xyzzy", normalized=True)])
    extra = texts + ["say xyzzy twice: xyzzy xyzzyxyzzy", "xyzzy"]
    write("llama2", tok, extra, rng, sentencepiece_decodes(tok), legacy_merges=True)


def make_mistral(train, texts, rng):
    sp = train_sentencepiece(train, 900)
    pre = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    tok = sentencepiece_tokenizer(sp, None, pre)
    write("mistral", tok, texts, rng, sentencepiece_decodes(tok))


def make_metaspace_unk(train, texts, rng):
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(r"\s+"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    ascii_only = "".join(c for c in train[:100_000] if ord(c) < 128)
    tok.train_from_iterator(lines([ascii_only]),
                            trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<pad>", "</s>"],
                                                show_progress=False, limit_alphabet=60))
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))])
    write("metaspace-unk", tok, texts, rng)

    # The same vocabulary with unknown characters not fused, and no leading "▁" at all.
    data = json.loads(tok.to_str())
    data["model"]["fuse_unk"] = False
    data["normalizer"] = None
    data["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": False}
    data["decoder"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": False}
    write("metaspace-unk-unfused", Tokenizer.from_str(json.dumps(data)), short(texts), rng)


# --- character vocabulary ---------------------------------------------------------------

def make_char(train):
    folder = os.path.join(OUT, "char")
    os.makedirs(folder, exist_ok=True)
    chars = sorted(set(train))
    vocab = {"type": "char", "chars": chars, "unk_id": None, "bos_id": None, "eos_id": None}
    with open(os.path.join(folder, "char_vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    texts = ["First Citizen:\nBefore we proceed any further, hear me speak.\n",
             "a\r\nb" if "\r" in chars else "a\nb", "", "   ", "ROMEO & JULIET!"]
    cases = [{"text": t, "ids": [chars.index(c) for c in t]} for t in texts if all(c in chars for c in t)]
    dump(os.path.join(folder, "expected.json"), {"cases": cases})


# --- component expectations --------------------------------------------------------------

def short(texts):
    return [t for t in texts if len(t) < 100]


def make_pretokenizers(texts):
    """Pieces each pre-tokenizer gives for each sample, as `pre_tokenize_str` gives them."""
    patterns = [
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False),
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"),
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated"),
        pre_tokenizers.Split(Regex(GPT4O_PATTERN), behavior="isolated"),
        pre_tokenizers.Split(Regex(DEEPSEEK_PATTERN), behavior="isolated"),
        pre_tokenizers.Split(Regex(r"\s+(?=\d)|x{2,3}?|[aeiou]+?b??"), behavior="isolated"),
        pre_tokenizers.Split(Regex(r"^a|b$|(?:ab|c)+|\.\*"), behavior="isolated"),
        pre_tokenizers.Split(Regex(r"\P{L}{2}|\p{^N}\p{Nd}|[^\p{Lu}\p{Ll}\s]|[\x{4e00}-\x{9fff}]|\u00e9"),
                             behavior="isolated"),
        pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"),
                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]),
    ]
    behaviours = []
    for behavior in ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]:
        for invert in (False, True):
            behaviours.append(pre_tokenizers.Split(Regex(r"\s+|[,.!?]"), behavior=behavior, invert=invert))
        behaviours.append(pre_tokenizers.Split(" ", behavior=behavior))
        behaviours.append(pre_tokenizers.Split("ab", behavior=behavior))
    for scheme in ("first", "always", "never"):
        for split in (False, True):
            behaviours.append(pre_tokenizers.Metaspace(replacement="▁", prepend_scheme=scheme, split=split))
    samples = short(texts) + ["aabab ab ba xxxx xxx 12 345 a.b.c.*", "  hello  world  ", "▁▁a▁b ▁"]
    few = [0, 1, 2, 5, 7, 8, 10, 11] + list(range(len(samples) - 3, len(samples)))
    configs = [(pre, range(len(samples))) for pre in patterns] + [(pre, few) for pre in behaviours]
    out = [{"pre_tokenizer": json.loads(pre.__getstate__()),
            "pieces": {str(i): [p for p, _ in pre.pre_tokenize_str(samples[i])] for i in which}}
           for pre, which in configs]
    dump(os.path.join(OUT, "pretokenizers.json"), {"samples": samples, "configs": out})


def make_normalizers(texts):
    """What each normalizer makes of each sample (`normalize_str`)."""
    configs = [
        normalizers.NFC(), normalizers.NFD(), normalizers.NFKC(), normalizers.NFKD(),
        normalizers.Lowercase(), normalizers.Strip(), normalizers.Strip(left=False, right=True),
        normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents()]),
        normalizers.Prepend("▁"), normalizers.Replace(" ", "▁"), normalizers.Replace("ab", ""),
        normalizers.Replace(Regex(r"\s+"), " "), normalizers.Replace(Regex(r"\p{N}+"), "<n>"),
        normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]),
        normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase(), normalizers.Strip()]),
    ]
    samples = short(texts) + ["  ab abab  AB ", "ﬁ ﬀ Ⅻ ㎏ ẞ ǅ İ Σ ΣΑΣ"]
    out = [{"normalizer": json.loads(norm.__getstate__()),
            "normalized": [norm.normalize_str(t) for t in samples]} for norm in configs]
    dump(os.path.join(OUT, "normalizers.json"), {"samples": samples, "configs": out})


def make_decoders():
    """What each decoder makes of each list of token strings (`decode`)."""
    configs = [
        decoders.ByteLevel(),
        decoders.Metaspace(replacement="▁", prepend_scheme="first", split=True),
        decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False),
        decoders.Metaspace(replacement="▁", prepend_scheme="never", split=True),
        decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                           decoders.Strip(" ", 1, 0)]),
        # (HF panics when Strip cuts a token from both ends past each other; not tested.)
        decoders.Strip(" ", 2, 0), decoders.Strip("x", 0, 1),
        decoders.Replace(Regex(r"\s+"), "_"), decoders.ByteFallback(), decoders.Fuse(),
    ]
    token_lists = [
        [], ["▁"], ["▁▁hi", "▁▁there", "▁"], ["a▁b▁", "▁x"], ["x", "▁▁y"], [" ", "  ", "   a  "],
        ["<0xE2>", "<0x82>", "<0xAC>", "a"], ["<0xE2>", "<0x82>", "<0xAC>", "<0xFF>"], ["<0xE2>", "<0x82>"],
        ["<0x+A>", "<0x0a>", "<0xZZ>", "<0x41>x", "<0x-1>", "<0X41>"], ["xx x", "x", "xxxx"],
        ["Ġhello", "Ċ", "Ã©", "ðŁĺ", "Ģ"], ["é", "ü x", "€", "ĠĠ"], ["\u00c3", "\u0301"],
    ]
    out = [{"decoder": json.loads(dec.__getstate__()),
            "decoded": [dec.decode(tokens) for tokens in token_lists]} for dec in configs]
    dump(os.path.join(OUT, "decoders.json"), {"token_lists": token_lists, "configs": out})


def make_unicode_classes():
    """The scalars Oniguruma (HF tokenizers' regex engine) puts in each class, as ranges."""
    scalars = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    text = "".join(map(chr, scalars))
    classes = {}
    for pattern in [r"\p{L}", r"\p{N}", r"\s", r"\p{P}", r"\p{S}", r"\p{M}", r"\p{Lu}", r"\p{Ll}",
                    r"\p{Lo}", r"\p{Nd}", r"(?i:s)", r"(?i:k)", r"(?i:d)"]:
        unmatched = set()
        for _, (start, end) in pre_tokenizers.Split(Regex(pattern), behavior="removed").pre_tokenize_str(text):
            unmatched.update(range(start, end))
        ranges = []
        for index, scalar in enumerate(scalars):
            if index in unmatched:
                continue
            if ranges and ranges[-1][1] == scalar - 1:
                ranges[-1][1] = scalar
            else:
                ranges.append([scalar, scalar])
        classes[pattern] = ranges
    dump(os.path.join(OUT, "unicode_classes.json"), {"classes": classes})


def main():
    train, validation = read_corpus()
    texts = hard_texts(validation)
    rng = random.Random(20240611)
    os.makedirs(OUT, exist_ok=True)
    make_gpt2(train, texts, rng)
    make_llama3(train, texts, rng)
    make_qwen2(train, texts, rng)
    make_roberta(train, texts, rng)
    make_llama2(train, texts, rng)
    make_mistral(train, texts, rng)
    make_metaspace_unk(train, texts, rng)
    make_char(train)
    make_pretokenizers(texts)
    make_normalizers(texts)
    make_decoders()
    make_unicode_classes()


if __name__ == "__main__":
    main()
