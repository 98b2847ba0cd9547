#!/usr/bin/env python3
"""Writes the tokenizer test corpus, tests/data/tokenizer_corpus/*.txt, deterministically.

Run from anywhere; the output is committed, so the tests need none of the sources below:
  - English prose with code samples: the Python tutorial's reStructuredText sources
    (Debian package python3-doc, PSF licence);
  - Python, C++ and JavaScript code: Python's standard library (PSF), nlohmann/json's single
    header (MIT, Debian nlohmann-json3-dev), transformers.js utilities (Apache-2.0, from
    tests/reference/node_modules);
  - Chinese, Japanese, Korean, Arabic, Hindi and Russian sentences: translated messages of
    Debian's own programs (their .mo catalogues under /usr/share/locale, taken in msgid order);
  - the rest (emoji, numbers, whitespace, URLs and JSON, contractions, special-token strings,
    decomposed NFD text, mixed scripts) is written here.

The corpus avoids U+0085 and U+FEFF and the apostrophe + U+017F pair on purpose: there
transformers.js departs from the HF tokenizers library (see test_parity.cpp, which covers them
separately).
"""
import gettext
import os
import random
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "data" / "tokenizer_corpus"
PYDOC = Path("/usr/share/doc/python3-doc/html/_sources/tutorial")
LOCALE = Path("/usr/share/locale")


def need(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"make_tokenizer_corpus: {path} is missing (apt-get install python3-doc nlohmann-json3-dev; "
                 f"npm ci in tests/reference)")
    return path


def write(name: str, text: str) -> None:
    for bad in ("\u0085", "\ufeff", "'\u017f"):
        assert bad not in text, f"{name} contains {bad!r}"
    (OUT / name).write_text(text, encoding="utf-8", newline="")
    print(f"{name}: {len(text.encode('utf-8'))} bytes")


def english_prose() -> str:
    parts = []
    for page in ("introduction", "controlflow", "classes", "errors"):
        parts.append(need(PYDOC / f"{page}.rst.txt").read_text(encoding="utf-8"))
    return "\n".join(parts)


def code() -> dict:
    py = need(Path("/usr/lib/python3.11/textwrap.py")).read_text(encoding="utf-8")
    py += need(Path("/usr/lib/python3.11/json/decoder.py")).read_text(encoding="utf-8")
    cpp_all = need(Path("/usr/include/nlohmann/json.hpp")).read_text(encoding="utf-8")
    start = cpp_all.index("namespace detail")
    cpp = cpp_all[start:start + 60000]
    cpp = cpp[:cpp.rindex("\n") + 1]
    js = need(HERE / "node_modules/@lenml/tokenizers/src/tokenizers/utils/core.js").read_text(encoding="utf-8")
    js += need(HERE / "node_modules/@lenml/tokenizers/src/tokenizers/utils/generic.js").read_text(encoding="utf-8")
    # Tabs and CRLF line endings, as files from other editors have them.
    tabbed = "\r\n".join(line.replace("    ", "\t") for line in py.splitlines()[:200]) + "\r\n"
    return {"code_python.txt": py, "code_cpp.txt": cpp, "code_js.txt": js, "code_tabs_crlf.txt": tabbed}


def translations() -> str:
    domains = ("glib20", "gtk20", "apt", "coreutils", "dpkg", "xdg-user-dirs", "Linux-PAM", "PackageKit",
               "iso_3166-1", "iso_639-3", "software-properties", "appstream")
    out = []
    for lang, per_lang in (("zh_CN", 140), ("ja", 140), ("ko", 140), ("ar", 120), ("hi", 120), ("ru", 140)):
        texts = []
        for domain in domains:
            mo = LOCALE / lang / "LC_MESSAGES" / f"{domain}.mo"
            if not mo.exists():
                continue
            with open(mo, "rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog
            for key in sorted(k for k in catalog if isinstance(k, str) and k):
                value = catalog[key]
                if isinstance(value, str) and value.strip() and len(value) > 12:
                    texts.append(value)
        rng = random.Random(f"corpus-{lang}")
        chosen = rng.sample(texts, min(per_lang, len(texts)))
        out.append(f"== {lang} ==\n" + "\n".join(chosen) + "\n")
    return "\n".join(out)


EMOJI = """Emoji and pictographs 😀😃😄😁 😆😅🤣😂 🙂🙃🫠😉
Skin tones: 👍 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿 👋🏽 🧑🏿‍💻
ZWJ families: 👨‍👩‍👧‍👦 👩‍❤️‍👨 👨‍👨‍👧 🏳️‍🌈 🏴‍☠️ 🧑‍🤝‍🧑 👁️‍🗨️
Flags: 🇺🇸 🇬🇧 🇯🇵 🇩🇪 🇫🇷 🇨🇳 🇰🇷 🇮🇳 🇧🇷 🇺🇦 🏴󠁧󠁢󠁳󠁣󠁴󠁿
Keycaps: 1️⃣ 2️⃣ #️⃣ *️⃣ and text vs emoji presentation: ☺ ☺️ ❤ ❤️ ✈ ✈️
Emoji in words: I❤️NY, pizza🍕time, 🚀launch🚀, ok👌👌👌!!!
Symbols ™ © ® ✓ ✔ ✗ ★ ☆ ♠ ♣ ♥ ♦ ∞ ≈ ≠ ≤ ≥ ± × ÷ √ ∑ ∫ ∂ ∇ → ← ↑ ↓ ⇒ ⇔
Math alphanumerics 𝐀𝐁𝐂 𝑥𝑦𝑧 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟘𝟙𝟚 and CJK extension B 𠀀𠀁𠀂
"""


def emoji() -> str:
    rng = random.Random("emoji")
    pool = ["😀", "👍🏽", "👨‍👩‍👧", "🇯🇵", "🔥", "✨", "🎉", "🙏🏿", "🧑‍🚀", "🐍", "🦀", "⚡", "💯"]
    lines = [EMOJI]
    for i in range(300):
        words = []
        for _ in range(rng.randint(3, 12)):
            r = rng.random()
            if r < 0.4:
                words.append(rng.choice(pool) * rng.randint(1, 3))
            elif r < 0.7:
                words.append(rng.choice(["hello", "world", "party", "yes", "nice", "ship", "it"]))
            else:
                words.append(rng.choice(["!", "?!", "...", ":)", ";-)", "<3", "#tag", "@user"]))
        lines.append(" ".join(words) + "\n")
    return "".join(lines)


def numbers() -> str:
    rng = random.Random("numbers")
    lines = ["Numbers: 0 1 12 123 1234 12345 123456 1234567 12345678 123456789 1234567890\n",
             "Grouped: 1,000 10,000 1,000,000 1,234,567.89 and European 1.234.567,89 and 1 000 000\n",
             "Decimals: 3.14159 2.718281828459045 0.5 .5 5. 1e10 6.022e23 -1.5E-7 +42\n",
             "Versions 1.2.3 v10.0.19045 3.11.7 2024-01-15 12:34:56.789 UTC+05:30\n",
             "Phone +1 (555) 123-4567, hex 0xDEADBEEF 0x7fff_ffff, bin 0b1010, oct 0o755\n",
             "Other digits: ٠١٢٣٤٥٦٧٨٩ ०१२३४५६७८९ ０１２３４５６７８９ ²³¹ ½ ¾ ⅓ Ⅻ ⅻ ①②③\n",
             "Long run: " + "".join(str(rng.randint(0, 9)) for _ in range(200)) + "\n"]
    for _ in range(600):
        kind = rng.randint(0, 6)
        if kind == 0:
            lines.append(f"{rng.randint(0, 10**rng.randint(1, 15))}\n")
        elif kind == 1:
            lines.append(f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 8)}f}\n")
        elif kind == 2:
            lines.append(f"{rng.randint(0, 10**9):,}\n")
        elif kind == 3:
            lines.append(f"Total: ${rng.randint(0, 99999)}.{rng.randint(0, 99):02d} ({rng.randint(1, 100)}%)\n")
        elif kind == 4:
            lines.append(f"{rng.randint(1900, 2100)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                         f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z\n")
        elif kind == 5:
            lines.append(" ".join(str(rng.randint(0, 999)) for _ in range(rng.randint(2, 20))) + "\n")
        else:
            lines.append(f"x{rng.randint(0, 99)}y{rng.randint(0, 9999)}z {rng.random():.3e}\n")
    return "".join(lines)


def whitespace() -> str:
    rng = random.Random("whitespace")
    spaces = [" ", "  ", "   ", "    ", "\t", "\t\t", " \t", "\u00a0", "\u3000", "\u2009", "\u202f", "\u2003"]
    ends = ["\n", "\r\n", "\n\n", "\r\n\r\n", " \n", "  \r\n", "\t\n", "\n\n\n", "\r", "\n \n"]
    words = ["alpha", "beta", "gamma", "日本", "данные", "x", "=", "{", "}", "//", "#", "-", "*", "1", "42"]
    out = ["trailing spaces   \n", "   leading spaces\n", "\ttab indented\n", "\t\t  mixed\t \n",
           "no newline at end of this line", "\n", "\n\n\n", "   \n", "\r\n\r\n", "a \n b \n  c  \n",
           "ideographic\u3000space and\u00a0non-breaking\u00a0space\n", "          \n", "x" + " " * 50 + "y\n"]
    for _ in range(800):
        line = ""
        for _ in range(rng.randint(0, 8)):
            line += rng.choice(spaces) * rng.randint(1, 3) + rng.choice(words)
        line += rng.choice(spaces) * rng.randint(0, 2) + rng.choice(ends)
        out.append(line)
    return "".join(out)


def urls_json() -> str:
    rng = random.Random("urls")
    out = ["https://www.example.com/path/to/page?query=value&other=123#section\n",
           "http://localhost:8080/api/v1/users/42?fields=name,email\n",
           "ftp://files.example.org/pub/linux/kernel/v6.x/linux-6.1.tar.xz\n",
           "mailto:someone@example.com user.name+tag@sub.domain.co.uk\n",
           "file:///home/user/Documents/report%202024.pdf C:\\Users\\Admin\\AppData\\Local\\Temp\n",
           "https://ja.wikipedia.org/wiki/東京都 https://ru.wikipedia.org/wiki/Москва\n",
           '{"name": "Scout", "version": "0.1.0", "tags": ["llm", "agent"], "nested": {"a": [1, 2.5, -3e4, null, true]}}\n',
           '{\n  "model": "qwen3",\n  "messages": [\n    {"role": "user", "content": "Hi! \\"quoted\\" \\n newline \\u00e9"}\n  ]\n}\n',
           "[{'key': 'value'}, (1, 2), {3, 4}]\n", "<html><body class=\"main\"><p>Hello &amp; welcome</p></body></html>\n",
           "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%son' ORDER BY id DESC LIMIT 10;\n"]
    hosts = ["example.com", "github.com", "docs.python.org", "en.cppreference.com", "192.168.0.1:3000"]
    for _ in range(300):
        path = "/".join(rng.choice(["api", "v2", "items", "search", "a-b_c", "index.html", "%E2%9C%93"])
                        for _ in range(rng.randint(1, 5)))
        out.append(f"https://{rng.choice(hosts)}/{path}?q={rng.randint(0, 999)}&lang={rng.choice(['en', 'zh', 'ru'])}\n")
        out.append('{"id": %d, "score": %.3f, "ok": %s, "tags": ["%s"]}\n'
                   % (rng.randint(0, 10**6), rng.random(), rng.choice(["true", "false", "null"]),
                      rng.choice(["a", "b c", "d\\te", "ü"])))
    return "".join(out)


def contractions() -> str:
    rng = random.Random("contractions")
    base = ["I'm", "you're", "he's", "she'll", "we've", "they'd", "it's", "can't", "won't", "don't",
            "I'M", "YOU'RE", "HE'S", "SHE'LL", "WE'VE", "THEY'D", "IT'S", "CAN'T", "We'Ve", "a'lL",
            "'s", "'S", "'t", "'re", "'RE", "'ve", "'m", "'M", "'ll", "'LL", "'d", "'D", "''", "'''",
            "rock'n'roll", "O'Neill", "y'all", "'tis", "'twas", "ma'am", "Jones's", "1990's", "'quoted'",
            "don’t", "it’s", "I’m"]
    out = ["I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL\n"]
    for _ in range(500):
        out.append(" ".join(rng.choice(base) for _ in range(rng.randint(1, 10))) + rng.choice([".\n", "?\n", "\n", "!\n"]))
    return "".join(out)


def specials() -> str:
    return """<|im_start|>system
You are a helpful assistant.<|im_end|>
<|im_start|>user
What is 2+2?<|im_end|>
<|im_start|>assistant
<think>
The user asks for 2+2. That is 4.
</think>

The answer is 4.<|im_end|>
<|im_start|>assistant
<tool_call>
{"name": "web_search", "arguments": {"query": "weather"}}
</tool_call><|im_end|>
<tool_response>sunny</tool_response>
<|endoftext|>
<|begin_of_text|><|start_header_id|>user<|end_header_id|>

Hello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>

Hi there.<|eot_id|><|end_of_text|>
<｜begin▁of▁sentence｜><｜User｜>Hello<｜Assistant｜><think>ok</think>Hi!<｜end▁of▁sentence｜>
<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather<｜tool▁call▁end｜><｜tool▁calls▁end｜>
Partial specials: <|im_start <|im_end| <think <|eot_id <| |> <｜ ｜> <thinking> </think >
Nested: <<|im_start|>> <|<|im_end|>|> <think><think></think></think>
Adjacent: <|im_start|><|im_end|><|endoftext|><think></think>text<tool_call>x</tool_call>
Spaces around: a <|im_end|> b  <think>  c  </think>  d
<|fim_prefix|>def f(x):<|fim_suffix|>    return x<|fim_middle|>
<|reserved_special_token_5|> <|finetune_right_pad_id|> <|python_tag|>
"""


def nfd() -> str:
    samples = [
        "Crème brûlée, café, naïve, résumé, façade, jalapeño, Zürich, São Paulo, Ångström.",
        "Tiếng Việt có rất nhiều dấu: ắ ằ ẳ ẵ ặ ấ ầ ẩ ẫ ậ ế ề ể ễ ệ ố ồ ổ ỗ ộ ớ ờ ở ỡ ợ ứ ừ ử ữ ự.",
        "한국어 텍스트는 NFD에서 자모로 분해됩니다: 가나다라마바사 아자차카타파하.",
        "Ελληνικά με τόνους: άέήίόύώ ΐΰ και διαλυτικά ϊϋ.",
        "Polski: zażółć gęślą jaźń. Čeština: příliš žluťoučký kůň úpěl ďábelské ódy.",
        "日本語の濁点: がぎぐげご ざじずぜぞ だぢづでど ばびぶべぼ ぱぴぷぺぽ ガギグゲゴ パピプペポ ヴ.",
        "Ligatures and compatibility stay: ﬁ ﬂ ㎏ ① Ⅻ (NFC does not touch them).",
        "Already composed: é vs decomposed: e\u0301; Å vs A\u030a; ñ vs n\u0303.",
        "Combining sequences with no precomposed form: q\u0307\u0323 x\u0301\u0301 ẹ\u0302.",
    ]
    out = []
    for s in samples:
        out.append(unicodedata.normalize("NFD", s) + "\n")
        out.append(s + "\n")
    return "".join(out) * 8


def mixed() -> str:
    return """Mixed scripts: Hello世界 Привет мир مرحبا بالعالم नमस्ते दुनिया こんにちは世界 안녕하세요 세계 שלום עולם
Code-switching: 我今天用Python写了一个script，运行了3.5秒。 今日はGitHubでPRを3つmergeした！
Numbers in text: 第1章 2024年3月15日 价格是¥1,299.00 売上は1,234万円 순위 1위 ٢٠٢٤ ١٢٣
Full-width: ＡＢＣ ａｂｃ ０１２ ！？（）「」『』【】〔〕 ，。、：；
Arabic with diacritics: بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ and RTL marks \u200f\u200e inside.
Devanagari clusters: क्षत्रिय ज्ञान श्री द्वार हिन्दी भाषा में संयुक्ताक्षर होते हैं।
Thai without spaces: ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ Khmer: កាន់តែពិសេសអាច
Zero-width: a\u200bb c\u200cd e\u200df word\u2060joiner soft\u00adhyphen
Combining marks alone: \u0301\u0302 x\u20dd y\u20e3
Punctuation runs: ------======= ...... !!!!!!?????? '''''' ```````\"\"\"\" ~~~ *** ___ ||| ;;; :::
Brackets: ([{<>}]) 「」《》〈〉«» ‹› „“ ‚‘ — – … · • ‧ ※ § ¶ † ‡
Currency: $100 €50 £30 ¥1000 ₹500 ₩10000 ₽200 ₿0.001 ¢99
Control-ish: tab\there, bell\a? no: literal backslashes \\n \\t \\\\ and a real\x07bell, DEL\x7f, NUL-free.
"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.txt"):
        old.unlink()
    write("english_prose.txt", english_prose())
    for name, text in code().items():
        write(name, text)
    write("translations.txt", translations())
    write("emoji.txt", emoji())
    write("numbers.txt", numbers())
    write("whitespace.txt", whitespace())
    write("urls_json.txt", urls_json())
    write("contractions.txt", contractions())
    write("specials.txt", specials())
    write("nfd.txt", nfd())
    write("mixed.txt", mixed())
    total = sum(p.stat().st_size for p in OUT.glob("*.txt"))
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main()
