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

and one per model family the engine runs, each set up the way that family's real tokenizer.json
is (the sources for each are in the project notes, tokenizers.md; the vocabularies are trained
here, the added tokens are the real ones with their real flags as far as they could be checked):

  smollm2         Digits(individual_digits) + ByteLevel(GPT-2 regex), the 17 StarCoder-style specials
  qwen3           Qwen2's NFC + Split + ByteLevel, Qwen3's added tokens (<think>, <tool_call>, FIM ones
                  are not special)
  gemma2          GemmaConverter: Replace(" " -> "▁"), Split(" ", MergedWithPrevious), byte fallback,
                  "\t" in place of <0x09>, SentencePiece user-defined pieces (runs of "▁", HTML tags)
                  as non-special, unnormalized added tokens; merges from transformers' generate_merges
  gemma3          the same with Gemma 3's image tokens (<start_of_image>, <image_soft_token> after the vocab)
  phi3            Llama 2's SentencePiece setup with Phi-3's added tokens (rstrip; "</s>" not special)
  phi4-mini       o200k Split + ByteLevel (Phi-4-mini, Xenova/gpt-4o) and Phi-4-mini's added tokens
  huginn          Huginn-0125 as bpeasy exports it: Split(its regex with \b, Removed, invert) + ByteLevel,
                  empty subword prefix/suffix, "left right" merges, <|begin_text|> $A <|end_text|>

smollm2 and phi4-mini also get a tokenizer.gguf: the same vocabulary as convert_hf_to_gguf.py stores
it, with tokenizer.ggml.pre "smollm" / "gpt-4o".

The expectations (ids with and without special tokens, decoded text with and without special
tokens, decoded text of random id sequences, pre-tokenizer pieces, normalized strings, decoded
token lists, and the
Unicode classes the regex engine of HF `tokenizers` (Oniguruma) uses) are written next to them.
Everything is committed, so `swift test` needs no Python. Run from the repository root:

    python3 training/make_tokenizer_fixtures.py

Requires tokenizers 0.23.3, sentencepiece and transformers (for `generate_merges`). Training is not bit-for-bit reproducible across
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

# Huginn-0125's split (seal-rg/recurrent-pretraining, scripts/tokenizer_generation.py): "hesiod" is the
# rule its compare script labels tomg-group-umd/huginn_tokenizer_65k with, "aeolian" the script's default.
HUGINN_HESIOD_PATTERN = r"(\\n(?:e(?:wcommand|wenvironment|wline|wpage|wtheorem)|abla|e|eq|geq|gtr|leq|exists|ocite|oindent|olinebreak|onumber|opagebreak|ormalsize|ot(?!(?:ag\b|\b)))\b|\n+|\\n(?!\b)|[ \t]?(?:==|!=|<=|>=|<<|>>|\*\*|//|\+=|-=|\*=|/=|%=|&=|\|=|\^=|<<=|>>=|\*\*=|//=|:=|\+\+|--|[\p{L}]+['’ʼ](?:\p{L}+)\b|\\[a-zA-Z]+|\\{|\\}|{|}|\\\[|\\\]|\[|\]|\(|\)|_+|\||\+|-|\*|—|-|=|[.,!?;()]|\$\$?|`+|\"+|\#+|\p{N}+(?:st|nd|rd|th)|\p{N}{1,1}|[^\r\n\p{L}\p{N}]?\p{L}+|[\p{P}\p{S}]+)|\s+|\p{So})"
HUGINN_AEOLIAN_PATTERN = r"(\\n(?:e(?:wcommand|wenvironment|wline|wpage|wtheorem)|abla|e|eq|geq|gtr|leq|exists|ocite|oindent|olinebreak|onumber|opagebreak|ormalsize|ot(?!(?:ag\b|\b)))\b|\n+|\\n(?!\b)|\p{N}{1,1}|(?:[ \t](?:==|!=|<=|>=|<<|>>|\*\*|//|\+=|-=|\*=|/=|%=|&=|\|=|\^=|<<=|>>=|\*\*=|//=|:=|\+\+|--|[\p{L}]+[''ʼ](?:\p{L}+)\b|\\[a-zA-Z]+|\\{|\\}|{|}|\\\[|\\\]|\[|\]|\(|\)|_+|\||\+|-|\*|—|-|=|\*\*|^|[.,!?;()]|\$\$?|`+|\"+|\#+|\p{N}+(?:st|nd|rd|th)|<0x[0-9A-Fa-f]{1,2}>)|[^\r\n\p{L}\p{N}]?\p{L}+|[\p{P}\p{S}])|\s+|\p{So})"

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


def write(name, tok, texts, rng, extra_decodes=(), legacy_merges=False, raw=None):
    """`raw`: the exact tokenizer.json text to write (when `to_str` would rewrite parts of it)."""
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    text = raw if raw is not None else tok.to_str()
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


def qwen_byte_level_bpe():
    """Qwen2's and Qwen3's pipeline: NFC, their split pattern, byte-level BPE."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.decoder = decoders.ByteLevel()
    return tok


def make_qwen2(train, texts, rng):
    tok = qwen_byte_level_bpe()
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


def sentencepiece_decodes(tok, bos="<s>", eos="</s>"):
    b = lambda *hexes: byte_token_ids(tok, hexes)
    t = tok.token_to_id
    return [
        b("E4", "BD", "A0"),                       # a CJK character as three byte tokens
        b("E4", "BD"),                             # an unfinished character
        b("E2", "82", "AC", "FF"),                 # a valid character then an invalid byte
        b("C3") + [t(bos)] + b("BC"),              # a special token inside a byte run
        [t("▁"), t("▁"), t(bos), t("▁")],
        b("0A", "0A") + [t("▁")],
        [t(bos), t("▁")] + b("F0", "9F", "98", "80") + [t(eos)],
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


# --- the families the engine runs ------------------------------------------------------

def family_texts(texts):
    """What the family fixtures are checked on: the short hard texts, the multilingual sample
    and runs of digits, whitespace, code and LaTeX (no long Shakespeare chunk, to keep them small)."""
    return short(texts) + [MULTILINGUAL] + [
        "Call 555-0123 or +1 (800) 4567; pi=3.14159265358979; 2024-06-11T12:34:56Z; v1.2.3-rc4",
        "1st 2nd 3rd 44th 1+1=2 1 + 2 = 3 x2y3 0.5e-10 1,234,567.89 007 ½ ¾ ² ³ Ⅻ ⅻ ① ⑳",
        "١٢٣٤ ٥٦ ۱۲۳ १२३ ১২৩ ๑๒๓ 𝟘𝟙𝟚 １２３ \U00011de0\U00011de1 \U00016ff4",
        "x" + " " * 20 + "\t\t\n\n\n y\u3000\u3000z \u00a0\u00a0 \n \n",
        "\\newcommand{\\R}{\\mathbb{R}} \\nabla f \\neq 0 \\noindent \\not \\notag \\n\\n \\nu",
        "x == y != z <= 3 >= 4 << 5 >> 6 ** 7 // 8 += 9 := 10 ++i --j {a} [b] (c) __init__",
        "it's can’t we’re rock ʼn roll don'T #hash ##head ```code``` $$x^2$$ $y$ — dash – en",
        "<0x0A> <0xff> <h1>Title</h1> <table><tr><td>1</td></tr></table> ▁▁ ▁▁▁▁x ▁",
        "emoji 🙂🙂 👍🏽 🇺🇸 ❤️ 🫩 🥲 🩵 ✨➡️🚶‍♂️",
    ]


def added_token(content, special=True, rstrip=False, lstrip=False, normalized=False):
    return AddedToken(content, special=special, rstrip=rstrip, lstrip=lstrip, normalized=normalized,
                      single_word=False)


def with_bridge_merges(tok, pairs):
    """A vocabulary trained after a pre-tokenizer has no merge across the pieces it cuts, so a
    wrong cut would not show in the ids. These merges (added last, as the rarest) join what the
    real pre-tokenizer keeps apart, or what only it keeps together."""
    data = json.loads(tok.to_str())
    for left, right in pairs:
        if left + right not in data["model"]["vocab"]:
            data["model"]["vocab"][left + right] = len(data["model"]["vocab"])
        data["model"]["merges"].append([left, right])
    return Tokenizer.from_str(json.dumps(data))


SMOLLM2_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<reponame>", "<file_sep>",
                    "<filename>", "<gh_stars>", "<issue_start>", "<issue_comment>", "<issue_closed>",
                    "<jupyter_start>", "<jupyter_text>", "<jupyter_code>", "<jupyter_output>",
                    "<jupyter_script>", "<empty_output>"]


def make_smollm2(train, texts, rng):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])
    tok.post_processor = processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True)
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    tok.train_from_iterator(lines(training_text(train, 200_000)),
                            bpe_trainer(700, SMOLLM2_SPECIALS, pre_tokenizers.ByteLevel.alphabet()))
    # Only a tokenizer that does not isolate every digit can use these.
    tok = with_bridge_merges(tok, [("1", "2"), ("Ġ", "1"), ("2", "0"), ("20", "2"), ("202", "4"), ("x", "2")])
    extra = family_texts(texts) + [
        "<|im_start|>user\nWhat is 12345 * 678?<|im_end|>\n<|im_start|>assistant\n",
        "<filename>a1.py<gh_stars>10-100\nx = 42<|endoftext|>",
    ]
    write("smollm2", tok, extra, rng)
    write_byte_level_gguf("smollm2", "smollm")


QWEN3_ADDED = [  # (content, special), ids 151643.. in the real file
    ("<|endoftext|>", True), ("<|im_start|>", True), ("<|im_end|>", True), ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True), ("<|box_start|>", True), ("<|box_end|>", True), ("<|quad_start|>", True),
    ("<|quad_end|>", True), ("<|vision_start|>", True), ("<|vision_end|>", True), ("<|vision_pad|>", True),
    ("<|image_pad|>", True), ("<|video_pad|>", True), ("<tool_call>", False), ("</tool_call>", False),
    ("<|fim_prefix|>", False), ("<|fim_middle|>", False), ("<|fim_suffix|>", False), ("<|fim_pad|>", False),
    ("<|repo_name|>", False), ("<|file_sep|>", False), ("<tool_response>", False), ("</tool_response>", False),
    ("<think>", False), ("</think>", False),
]


def make_qwen3(train, texts, rng):
    tok = qwen_byte_level_bpe()
    tok.train_from_iterator(lines(training_text(train, 200_000)),
                            bpe_trainer(700, [], pre_tokenizers.ByteLevel.alphabet()))
    tok.add_tokens([added_token(content, special=special) for content, special in QWEN3_ADDED])
    extra = family_texts(texts) + [
        "<|im_start|>assistant\n<think>\nhmm, 2+2\n</think>\n\nIt is 4.<|im_end|>",
        "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_call><think></think>",
        "<|fim_prefix|>def f():<|fim_suffix|>\n    return 1<|fim_middle|>",
    ]
    write("qwen3", tok, extra, rng)


def train_gemma_sentencepiece(train, vocab_size, user_defined):
    """SentencePiece BPE with Gemma's ids (<pad> 0, <eos> 1, <bos> 2, <unk> 3), no dummy prefix."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "train.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(train[:200_000])
            f.write(MULTILINGUAL * 20)
        spm.SentencePieceTrainer.train(
            input=path, model_prefix=os.path.join(tmp, "sp"), vocab_size=vocab_size, model_type="bpe",
            byte_fallback=True, character_coverage=0.9995, split_digits=True, allow_whitespace_only_pieces=True,
            remove_extra_whitespaces=False, normalization_rule_name="identity", add_dummy_prefix=False,
            max_sentence_length=1_000_000, minloglevel=2, pad_id=0, eos_id=1, bos_id=2, unk_id=3,
            pad_piece="<pad>", eos_piece="<eos>", bos_piece="<bos>", unk_piece="<unk>",
            control_symbols=["<mask>", "[@BOS@]"], user_defined_symbols=user_defined)
        return spm.SentencePieceProcessor(model_file=os.path.join(tmp, "sp.model"))


def gemma_tokenizer(sp, user_defined, tab_token):
    """What transformers' GemmaConverter makes of a SentencePiece model (convert_slow_tokenizer.py)."""
    from transformers.convert_slow_tokenizer import generate_merges
    size = sp.get_piece_size()
    vocab_scores = [("<pad>", 0.0), ("<eos>", 0.0), ("<bos>", 0.0)]
    vocab_scores += [(sp.id_to_piece(i), sp.get_score(i)) for i in range(3, size)]
    sp_vocab = {sp.id_to_piece(i): i for i in range(size)}
    if tab_token:
        # Gemma 1 and 2 files have "\t" where the SentencePiece model has <0x09>.
        index = next(i for i, (piece, _) in enumerate(vocab_scores) if piece == "<0x09>")
        vocab_scores[index] = ("\t", 0.0)
        sp_vocab["\t"] = sp_vocab["<0x09>"]
    merges = generate_merges(sp_vocab, vocab_scores)
    vocab = {piece: i for i, (piece, _) in enumerate(vocab_scores)}
    tok = Tokenizer(models.BPE(vocab, merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True, dropout=None))
    # Control pieces and <start_of_turn>/<end_of_turn> are special; other user-defined pieces are
    # not; none is normalized. <unk> is added by transformers as the unk special token.
    control = {sp.id_to_piece(i) for i in range(size) if sp.is_control(i)}
    added = [(i, sp.id_to_piece(i)) for i in range(size)
             if sp.id_to_piece(i) in control or sp.id_to_piece(i) in user_defined or sp.is_unknown(i)]
    tok.add_tokens([added_token(piece, special=piece in control or piece == "<unk>"
                                or piece in ("<start_of_turn>", "<end_of_turn>"))
                    for _, piece in added])
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.pre_tokenizer = pre_tokenizers.Split(" ", "merged_with_previous")
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    tok.post_processor = processors.TemplateProcessing(
        single="<bos> $A", pair="<bos> $A <bos> $B", special_tokens=[("<bos>", 2)])
    return tok


GEMMA_USER_DEFINED = ["<start_of_turn>", "<end_of_turn>", "▁▁", "▁▁▁", "▁▁▁▁", "<h1>", "</h1>", "<table>",
                      "<unused0>", "<unused1>"]


def gemma_texts(texts):
    return family_texts(texts) + [
        "<start_of_turn>user\nWrite <h1>hi</h1>.<end_of_turn>\n<start_of_turn>model\n",
        "\t\tindent\t<0x09>\t", "a  b   c    d     e", "▁▁spaces▁▁▁▁ and  ▁▁ mixed",
        "<unused0><unused1> <mask>[@BOS@]<bos><eos>",
    ]


def make_gemma(train, texts, rng):
    sp = train_gemma_sentencepiece(train, 700, GEMMA_USER_DEFINED)
    tok = gemma_tokenizer(sp, GEMMA_USER_DEFINED, tab_token=True)
    decodes = sentencepiece_decodes(tok, "<bos>", "<eos>") + [[tok.token_to_id("\t"), tok.token_to_id("▁▁")]]
    write("gemma2", tok, gemma_texts(texts), rng, decodes)

    # Gemma 3: the image markers are user-defined pieces, <image_soft_token> comes after the vocabulary.
    user_defined = GEMMA_USER_DEFINED + ["<start_of_image>", "<end_of_image>"]
    sp = train_gemma_sentencepiece(train, 720, user_defined)
    tok = gemma_tokenizer(sp, user_defined, tab_token=False)
    tok.add_special_tokens([added_token("<image_soft_token>")])
    extra = gemma_texts(texts) + ["<start_of_image><image_soft_token><image_soft_token><end_of_image>\n\nDescribe."]
    write("gemma3", tok, extra, rng, sentencepiece_decodes(tok, "<bos>", "<eos>"))


PHI3_ADDED = [  # (content, rstrip), ids 32000..32010 in the real file, all special
    ("<|endoftext|>", False), ("<|assistant|>", True), ("<|placeholder1|>", True), ("<|placeholder2|>", True),
    ("<|placeholder3|>", True), ("<|placeholder4|>", True), ("<|system|>", True), ("<|end|>", True),
    ("<|placeholder5|>", True), ("<|placeholder6|>", True), ("<|user|>", True),
]


def make_phi3(train, texts, rng):
    sp = train_sentencepiece(train, 700)
    normalizer = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
    ]}
    data = json.loads(sentencepiece_tokenizer(sp, normalizer, None).to_str())
    # Phi-3's "</s>" swallows the whitespace after it and is not special.
    data["added_tokens"][2].update({"rstrip": True, "special": False})
    tok = Tokenizer.from_str(json.dumps(data))
    tok.add_special_tokens([added_token(content, rstrip=rstrip) for content, rstrip in PHI3_ADDED])
    extra = family_texts(texts) + [
        "<|system|>\nBe brief.<|end|>\n<|user|>\n  Hi!  <|end|>\n<|assistant|>\n",
        "a</s>  b </s>\n\nc<|endoftext|>  d", "<|placeholder1|><|placeholder6|>x",
    ]
    write("phi3", tok, extra, rng, sentencepiece_decodes(tok))


PHI4_MINI_ADDED = ["<|endoftext|>", "<|endofprompt|>", "<|assistant|>", "<|end|>", "<|user|>", "<|system|>",
                   "<|tool|>", "<|/tool|>", "<|tool_call|>", "<|/tool_call|>", "<|tool_response|>", "<|tag|>"]


def make_phi4_mini(train, texts, rng):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(GPT4O_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(lines(training_text(train, 200_000)),
                            bpe_trainer(700, [], pre_tokenizers.ByteLevel.alphabet()))
    # \p{N}{1,3} keeps "123" and cuts "12345" after three digits; "HELLOWorld" splits before "W".
    tok = with_bridge_merges(tok, [("1", "2"), ("12", "3"), ("4", "5"), ("3", "4"), ("O", "W"), ("'", "M")])
    tok.add_special_tokens([added_token(content) for content in PHI4_MINI_ADDED])
    extra = family_texts(texts) + [
        "<|system|>You are Phi.<|tool|>[{\"name\": \"f\"}]<|/tool|><|end|><|user|>Hi<|end|><|assistant|>",
        "HELLOWorld camelCaseWords XMLHttpRequest I'M THEY'RE path/to/file\n\n/etc",
    ]
    write("phi4-mini", tok, extra, rng)
    write_byte_level_gguf("phi4-mini", "gpt-4o")


def write_byte_level_gguf(name, pre):
    """The fixture's vocabulary as convert_hf_to_gguf.py stores a byte-level BPE (tokens, types,
    "left right" merges, tokenizer.ggml.pre naming the split), in a GGUF file with no tensors:
    the engine must rebuild the same tokenizer from it."""
    import gguf
    folder = os.path.join(OUT, name)
    with open(os.path.join(folder, "tokenizer.json"), encoding="utf-8") as f:
        data = json.load(f)
    vocab = Tokenizer.from_file(os.path.join(folder, "tokenizer.json")).get_vocab(with_added_tokens=True)
    reverse = {i: t for t, i in vocab.items()}
    added = {a["id"]: a for a in data["added_tokens"]}
    tokens = [reverse[i] for i in range(max(reverse) + 1)]
    types = [(gguf.TokenType.CONTROL if added[i]["special"] else gguf.TokenType.USER_DEFINED)
             if i in added else gguf.TokenType.NORMAL for i in range(len(tokens))]
    writer = gguf.GGUFWriter(os.path.join(folder, "tokenizer.gguf"), "llama")
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]])
    writer.add_eos_token_id(vocab["<|endoftext|>"])
    writer.add_add_bos_token(False)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


HUGINN_SPECIALS = ["<|begin_text|>", "<|end_text|>", "<|begin_header|>", "<|end_header|>", "<|end_turn|>",
                   "<|pad|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>"]


def make_huginn(train, texts, rng):
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(HUGINN_HESIOD_PATTERN), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre
    tok.train_from_iterator(lines(training_text(train, 200_000)),
                            bpe_trainer(700, [], pre_tokenizers.ByteLevel.alphabet()))
    # Its \b keeps "it's" whole ([\p{L}]+['’ʼ](?:\p{L}+)\b) and splits digits and operators apart.
    tok = with_bridge_merges(tok, [("'", "s"), ("it", "'s"), ("1", "2"), ("=", "="), ("Ġ", "=")])
    # bpeasy's export: empty subword prefix and suffix, "left right" merges, no ignore_merges, the
    # special tokens after the vocabulary; Huginn adds <|begin_text|> $A <|end_text|>.
    data = json.loads(tok.to_str())
    model = data["model"]
    model.update({"continuing_subword_prefix": "", "end_of_word_suffix": ""})
    model.pop("ignore_merges", None)
    model["merges"] = [" ".join(pair) for pair in model["merges"]]
    size = len(model["vocab"])
    for i, content in enumerate(HUGINN_SPECIALS):
        model["vocab"][content] = size + i
    data["added_tokens"] = [{"id": size + i, "content": content, "single_word": False, "lstrip": False,
                             "rstrip": False, "normalized": False, "special": True}
                            for i, content in enumerate(HUGINN_SPECIALS)]
    data["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    data["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<|begin_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "<|end_text|>", "type_id": 0}}],
        "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {t: {"id": t, "ids": [size + HUGINN_SPECIALS.index(t)], "tokens": [t]}
                           for t in ["<|begin_text|>", "<|end_text|>"]},
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    extra = family_texts(texts) + [
        "<|begin_header|>user<|end_header|>\n\nWhat is 2+2?<|end_turn|><|begin_header|>Huginn<|end_header|>\n\n",
        "controls \u0000\u0007 and a lone mark \u0301 are dropped by the split",
    ]
    write("huginn", Tokenizer.from_str(text), extra, rng, raw=text)


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
    # Added later, after everything above (so its expectations stay as they were): Digits, the
    # word-boundary regexes of Huginn's split, and samples full of numbers and code.
    samples += [
        "Hey 123 friend! 4.5e-6 0x1F ١٢٣x²³ Ⅻ½ ①⑳ 𝟘𝟙 \U00011de0\U00011de1 \U00016ff4 ৴৹ ༳ 12ab34",
        "\\newcommand{\\R} \\nabla \\neq \\noindent \\not \\notag \\n\\nu x == y != z ** 2 // 3 -- ++",
        "it's can’t rock ʼn don'T 1st 22nd 3rd #hash ##x ```c``` $$a$$ \"q\" — – <0x0A> \u0301x \u0000",
        "word_1 é٣ x\u0301y ⅻ ² Ⓐb \u200d\u200c z __x__ a.b x- -",
    ]
    configs += [(pre, range(len(samples))) for pre in [
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]),
        pre_tokenizers.Split(Regex(HUGINN_HESIOD_PATTERN), behavior="removed", invert=True),
        pre_tokenizers.Split(Regex(HUGINN_AEOLIAN_PATTERN), behavior="removed", invert=True),
        # Only the matches are kept, so that where a match ends is checked, not just where pieces end.
        pre_tokenizers.Split(Regex(r"\b\w+\b|\B.\B|\W{2}|x\b|\bx"), behavior="removed", invert=True),
        pre_tokenizers.Split(Regex(r"ot(?!(?:ag\b|\b))|\w(?=\W)|\W\B"), behavior="removed", invert=True),
    ]]
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
                    r"\p{Lo}", r"\p{Nd}", r"(?i:s)", r"(?i:k)", r"(?i:d)", r"\w", r"\d"]:
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
    # What HF's Digits pre-tokenizer counts as numeric (Rust's char::is_numeric, its own tables):
    # with individual_digits, a numeric scalar between two "a"s is a piece of its own.
    spaced = "a" + "a".join(chr(c) for c in scalars if c != ord("a")) + "a"
    pieces = pre_tokenizers.Digits(individual_digits=True).pre_tokenize_str(spaced)
    numeric = sorted(ord(p) for p, _ in pieces if len(p) == 1 and p != "a")
    numeric_ranges = []
    for scalar in numeric:
        if numeric_ranges and numeric_ranges[-1][1] == scalar - 1:
            numeric_ranges[-1][1] = scalar
        else:
            numeric_ranges.append([scalar, scalar])
    dump(os.path.join(OUT, "unicode_classes.json"), {"classes": classes, "digits_is_numeric": numeric_ranges})


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
    # The families the engine runs (their own random generator, so that adding one leaves the
    # fixtures above as they were).
    rng = random.Random(20250211)
    make_smollm2(train, texts, rng)
    make_qwen3(train, texts, rng)
    make_gemma(train, texts, rng)
    make_phi3(train, texts, rng)
    make_phi4_mini(train, texts, rng)
    make_huginn(train, texts, rng)
    make_pretokenizers(texts)
    make_normalizers(texts)
    make_decoders()
    make_unicode_classes()


if __name__ == "__main__":
    main()
