#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0 OR MIT
/**
 * corpus.mjs [OUT.json]
 *
 * The texts of the tokenizer-fidelity test: corpus() returns them, in a fixed
 * order (no randomness); run as a script it writes them to OUT.json as a JSON
 * array (or prints how many there are per group).
 *
 * Every text is valid UTF-16 (no lone surrogates, so valid UTF-8) without NUL
 * (the C tool reads NUL-terminated texts). Two characters are left out on
 * purpose: U+0085 (NEL) and U+FEFF (BOM): JavaScript's \s disagrees with
 * Unicode's White_Space on both (it lacks U+0085 and has U+FEFF), so the JS
 * port of the pre-tokenizer regexes splits them differently from HF's Rust
 * tokenizers and llama.cpp, and the reference would be wrong there.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/* ------------------------------------------------------------------ groups */

const prose = [
  "Hello world",
  "Hello, world!",
  "The quick brown fox jumps over the lazy dog.",
  "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG.",
  "the quick brown fox jumps over the lazy dog",
  "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.",
  "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, I thought I would sail about a little.",
  "In 1969, Apollo 11 landed on the Moon; Neil Armstrong and Buzz Aldrin walked on its surface for about 2.5 hours.",
  "Tokenizers split text into pieces: words, sub-words, bytes. Some pieces are rare; others appear billions of times.",
  "A neural processing unit (NPU) multiplies matrices, adds biases, and applies activations—quickly, and with little power.",
  "She sells sea-shells by the sea-shore; the shells she sells are sea-shells, I'm sure.",
  "Mr. and Mrs. Dursley, of number four, Privet Drive, were proud to say that they were perfectly normal, thank you very much.",
  "To be, or not to be: that is the question.",
  "e.g. i.e. etc. vs. a.m. p.m. Ph.D. U.S.A. U.K.",
  "Antidisestablishmentarianism and pneumonoultramicroscopicsilicovolcanoconiosis are long words.",
  "hello HELLO Hello hElLo",
  "Wait... what?! Really?!?! No way!!!",
  "(parentheses) [brackets] {braces} <angles>",
  "\"Double quotes\", 'single quotes', `backticks`.",
  "semi;colon:colon,comma.period!bang?question",
  "one-two three_four five/six seven\\eight nine|ten",
  "#hashtag @mention $dollar %percent ^caret &ampersand *star",
  "~tilde =equals +plus -minus",
  "A", "a", ".", "?", "I", "x y z",
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
  "The committee's report (see Appendix B, pp. 12–17) recommends a 3-phase roll-out over Q3–Q4.",
  "Dear Sir or Madam,\n\nI am writing to inquire about the position advertised on your website.\n\nYours faithfully,\nJane Doe",
  "Once upon a time, there was a little robot named Tok. Tok loved to count: one, two, three, four, five!",
  "Why do programmers prefer dark mode? Because light attracts bugs.",
  "naïve café résumé coöperate façade jalapeño Zürich Ångström",
  "Ça va? Où est la gare? L'été dernier, j'ai vu l'océan.",
  "Der Straßenverkehr in München ist schlimmer als in Köln; Größe und Übermut.",
  "¿Dónde está la biblioteca? ¡Qué sorpresa! El niño comió piñas.",
  "Språket är vackert. Æble, øl og år. Łódź, Kraków, Gdańsk.",
  "İstanbul'da ılık bir gün; Ğ ğ Ş ş I ı İ i.",
];

const contractions = [
  "I'm", "you're", "it's", "don't", "we've", "I'll", "he'd", "they're", "can't", "won't", "shouldn't've",
  "I'M", "YOU'RE", "IT'S", "DON'T", "WE'VE", "I'LL", "HE'D", "It'S", "wE'Ve", "i'M", "THEY'Re",
  "I'm sure you're right, it's fine and we'll see what they'd say.",
  "DON'T SHOUT! I'M LISTENING AND YOU'RE LOUD, WE'VE HEARD IT'S TRUE.",
  "rock 'n' roll", "'tis the season", "the students' books", "O'Neil's pub", "y'all'd've",
  "don’t ‘curly’ it’s", "''", "'", "'''", "'s", " 's", "'S", "'ll'd're've'm't's",
  "x's y'S z'T", "Jones' and James's", "He said 'hello' and 'goodbye'.", "'Twas brillig.",
  "1's 2'nd '90s", "it 's spaced", "it' s odd",
];

/** Digit strings of every length 1..15, and numbers in their many spellings. */
function numbers() {
  const out = [];
  const digits = "3141592653589793238462643383279";
  for (let n = 1; n <= 15; n++) {
    out.push(digits.slice(0, n));
    out.push("9".repeat(n));
    out.push(`${"1234567890".repeat(2).slice(0, n)} items`);
    out.push(`x${"0".repeat(n - 1)}7y`);
  }
  out.push(
    "0", "00", "007", "1,234", "1,234,567", "12,345,678.90", "1.234.567,89", "1 234 567", "1'234'567",
    "3.14159", "-42", "+17", "−5 (minus sign)", "1e10", "6.022e23", "1.5E-9", "0x1F", "0xDEADBEEF", "0b1010",
    "0o755", "2024-01-15", "15/01/2024", "12:30:45", "12:30:45.123Z", "100%", "$1,000.00", "€2,50", "£3.99",
    "¥1000", "v1.2.3", "192.168.0.1", "+1 (555) 010-9999", "ISBN 978-3-16-148410-0", "3x + 2y = 10",
    "1st 2nd 3rd 4th 21st 102nd", "100000000000000000000000000000", "123456789012345678901234567890123456789",
    "1.1.1.1.1.1.1.1", "9.99.999.9999", "0.000001", "1/2 3/4 7/8", "pi is about 3.14159265358979",
    "１２３４５ (full-width digits)", "٠١٢٣٤٥٦٧٨٩ (Arabic-Indic)", "०१२३४५६७८९ (Devanagari)", "Ⅻ Ⅳ ⅷ (Roman numerals)",
    "½ ¼ ¾ ² ³ ¹ ⁴ ₀ ₁", "①②③ ⑴⑵", "abc123def456", "123abc", "abc123", " 123", "123 ", "12 345 6789",
    "In 2023, revenue grew 12.5% to $4,567,890 (up from $4,060,347 in 2022).",
  );
  return out;
}

const whitespace = [
  " ", "  ", "   ", "    ", "        ", " ".repeat(33), "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", "\r\n\r\n",
  "\v", "\f", " \n ", "\t \n", "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n", " \t\n\r\n\t ",
  "hello ", "hello  ", "hello   ", " hello", "  hello", "   hello", "\thello", "\nhello", "hello\n", "hello\n\n",
  "hello \n world", "hello\n world", "hello \nworld", "hello\t\tworld", "hello \t world", "a  b   c    d",
  "line one\nline two\nline three", "line one\r\nline two\r\n", "para one\n\n\npara two", "   leading and trailing   ",
  "\n\n\n\n\nfive newlines first", "trailing tab\t", "mixed \t \t \t spaces", "end with CR\r", "\r\r\r",
  "a\u00a0b", "non\u00a0breaking\u00a0space", "\u00a0", "\u00a0\u00a0 ", "thin\u2009space", "en\u2002em\u2003space",
  "narrow\u202fno-break", "ideographic\u3000space", "\u3000\u3000", "medium\u205fmath", "ogham\u1680space",
  "line\u2028separator", "para\u2029separator", "zero\u200bwidth", "word\u2060joiner", "soft\u00adhyphen",
  "hair\u200aand\u2007figure\u2008punct", "x \u00a0 y", "  \u3000  ",
];

const code = [
  '#include <stdio.h>\n\nint main(void)\n{\n\tprintf("Hello, world!\\n");\n\treturn 0;\n}\n',
  "static inline u32 tnpu_read(struct tnpu_dev *dev, u32 reg)\n{\n\treturn readl(dev->mmio + reg);\n}",
  "for (int i = 0; i < n; ++i) {\n    sum += a[i] * b[i];\n}",
  "if (x != NULL && *x >= 0x7f) { *x <<= 2; } else if (!y || z->w[3] == '\\0') return -EINVAL;",
  "#define MAX(a, b) ((a) > (b) ? (a) : (b))\n#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))",
  "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
  "class Foo:\n    def __init__(self, x: int = 0) -> None:\n        self.x = x  # comment\n\n    def __repr__(self):\n        return f\"Foo({self.x!r})\"\n",
  "import numpy as np\nx = np.arange(10).reshape(2, 5)\nprint(x.T @ x)",
  "    indented four\n        indented eight\n\t\ttab indented",
  "lambda x: x**2 if x > 0 else -x // 3 % 7",
  '{"name": "tnpu", "version": "1.0.0", "ids": [1, 2, 3], "nested": {"ok": true, "v": null}}',
  '{\n  "key": "value",\n  "list": [\n    1.5,\n    -2e3\n  ]\n}',
  "[]", "{}", "[[[[]]]]", '"\\u00e9\\n\\t"',
  "#!/bin/sh\nset -eu\nfor f in *.txt; do\n  echo \"$f\" | tr a-z A-Z > \"${f%.txt}.out\"\ndone",
  "grep -rn 'TODO' src/ | awk -F: '{print $1}' | sort | uniq -c | sort -rn | head -20",
  "ls -la ~/.config && cd /tmp || exit 1; echo $? $$ $@ ${HOME}",
  "SELECT id, name FROM users WHERE age >= 18 AND name LIKE 'A%' ORDER BY id DESC LIMIT 10;",
  "<html><head><title>Test</title></head><body><p class=\"x\">Hi &amp; bye</p></body></html>",
  "fn main() { let v: Vec<u8> = (0..10).map(|x| x * 2).collect(); println!(\"{:?}\", v); }",
  "const f = async (a, b = {}) => { await g?.(a ?? b); return [...a, ...Object.keys(b)]; };",
  "x = re.compile(r'^(?:[a-z0-9_.+-]+)@([a-z0-9-]+\\.)+[a-z]{2,}$', re.I)",
  "| col1 | col2 |\n|------|------|\n| a    | b    |",
  "```python\nprint('hi')\n```",
  "// comment\n/* block\n * comment */\n# hash comment\n-- sql comment",
  "a==b!=c<=d>=e&&f||g->h::i...j",
  "====================", "--------------------------------", "________", "********", "////\\\\\\\\", "~~~~~~~~",
  "0123456789abcdef".repeat(16),
  "QmFzZTY0IGVuY29kZWQgZGF0YSB3aXRoIG5vIHNwYWNlcyBhdCBhbGwgZm9yIGEgbG9uZyB0aW1l==",
];

const web = [
  "https://www.example.com/path/to/page?query=1&lang=en#section-2",
  "http://localhost:8080/api/v1/items/42",
  "Visit https://en.wikipedia.org/wiki/Byte_pair_encoding for details.",
  "ftp://files.example.org/pub/README.txt",
  "mailto:someone@example.com",
  "john.doe+tag@example.co.uk",
  "Contact us at support@tnpu.dev or sales@tnpu.dev.",
  "user_name-123@sub.domain-name.example",
  "https://example.com/%E4%BD%A0%E5%A5%BD?q=a%20b",
  "www.example.com", "example.com/index.html", "git@github.com:owner/repo.git",
  "@user: check out #tokenizers https://t.co/AbC123",
];

const scripts = [
  // Chinese
  "你好，世界！", "我想在apple工作1314151天～", "机器学习是人工智能的一个分支。", "中华人民共和国", "这是一个测试。这只是一个测试。",
  "他说：“今天天气很好。”我们去公园吧！", "繁體中文與简体中文", "龘靐齉麤", "一二三四五六七八九十百千万亿",
  // Japanese
  "こんにちは", "カタカナ", "ひらがなとカタカナと漢字", "東京都渋谷区", "私は日本語を勉強しています。",
  "ｶﾀｶﾅ ﾊﾝｶｸ", "ｱｲｳｴｵ ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟﾌﾟ", "ラーメンを食べたい！", "ヴァイオリン", "々〆ヵヶ",
  // Korean
  "안녕하세요", "한국어 텍스트입니다.", "대한민국의 수도는 서울입니다.", "ㄱㄴㄷㄹ ㅏㅑㅓㅕ",
  // Thai, Arabic, Hebrew
  "สวัสดีครับ", "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ", "กรุงเทพมหานคร",
  "مرحبا بالعالم", "اللغة العربية جميلة جدا.", "بِسْمِ ٱللَّٰهِ", "שלום עולם", "עִבְרִית עם ניקוד",
  // Cyrillic, Greek, Devanagari
  "Привет, мир!", " качестве", "в качестве примера", "КАЧЕСТВЕ", "Съешь же ещё этих мягких французских булок.",
  "Україна, Беларусь, Србија", "Γειά σου Κόσμε", "αβγδεζηθ ΑΒΓΔΕΖΗΘ", "Ελληνικά: ὁ λόγος",
  "नमस्ते दुनिया", "हिन्दी भाषा", "क्षत्रिय", "தமிழ் மொழி", "বাংলা ভাষা", "ગુજરાતી", "ਪੰਜਾਬੀ",
  // others
  "ქართული ენა", "Հայերեն", "አማርኛ", "ᚠᚢᚦᚨᚱᚲ", "ꯃꯩꯇꯩ", "ພາສາລາວ", "မြန်မာဘာသာ", "ភាសាខ្មែរ",
  "កាន់តែពិសេសអាច", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙", "𠜎𠜱𠝹𠱓", "𓀀𓁐𓂀",
];

const emoji = [
  "🚀", "😀😃😄", "👍", "👍🏻", "👍🏽", "👍🏿", "👨‍👩‍👧‍👦", "👩‍💻", "🧑🏿‍💻", "🏳️‍🌈", "🏴‍☠️", "❤️", "❤", "♥️",
  "🇯🇵", "🇺🇸🇬🇧🇩🇪", "🇺", "1️⃣2️⃣3️⃣", "#️⃣", "👁️‍🗨️", "🫠🫡🫶", "🦙🦙", "😶‍🌫️",
  "I love it! 😍😍😍", "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ 🦙🦙 3 33 333 3333",
  "Family: 👨‍👩‍👧 and 👩‍❤️‍💋‍👨", "Flags 🇫🇷🇮🇹🇪🇸 end", "✅✔☑ ❌✖", "☀️🌤⛅️🌧",
];

const combining = [
  "Cafe\u0301", "Café", "CAFE\u0301", "e\u0301\u0302\u0303", "a\u0308o\u0308u\u0308", "n\u0303", "\u0301",
  "Z\u0351\u036b\u0343a\u0310l\u0357g\u0358o", "\u1100\u1161\u11a8", "\u1112\u1161\u11ab\u1100\u1173\u11af",
  "\u212b vs \u00c5 vs A\u030a", "\u2126 ohm", "\u1e9b\u0323", "ﬁ ﬂ ﬀ ligatures", "Ⅸ ㍿ ㎏",
  "u\u0308ber", "Ame\u0301lie and Ame\u0301lie", "\u0915\u094d\u0937", "\u0627\u0644\u0652",
  "s\u0323\u0307", "\u00e9\u0301", "ǅ ǆ Ǆ", "ﾞﾟ", "かﾞ", "か\u3099",
];

const symbols = [
  "25℃ is 77℉", "Tokenizer™ and Model®", "© 2026 The tnpu authors", "Price: €10 ± €0.50", "×÷±∓≠≈≤≥∞",
  "∑∏∫∂∇√∛", "α + β = γ", "→ ← ↑ ↓ ↔ ⇒ ⇔", "★☆♠♣♥♦", "°C ° µm Ω", "§ ¶ † ‡ • … ‰", "∀x∈ℝ: x²≥0",
  "£ ¥ ₹ ₩ ₿ ¢", "⌘ ⌥ ⇧ ⌃ ⎋", "♪♫ ☯ ☮ ☢", "━━━ ┃ ┏┓┗┛", "░▒▓█", "‹›«»„“”‚‘’",
  "日本語：“引用”，句号。问号？感叹号！", "（全角括号）【方括号】《书名号》", "…… —— ～ ・", "、。，：；！？",
  "ｈｅｌｌｏ　ｗｏｒｌｄ", "ＡＢＣ ａｂｃ ！＂＃", "＜｜not special｜＞",
];

/** Special-token markers, alone and inside text. */
const markers = [
  "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<｜User｜>", "<｜Assistant｜>",
  "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
  "<|end_header_id|>", "<|eot_id|>", "<s>", "</s>", "<unk>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
  "<|fim_middle|>", "<|fim_suffix|>", "<｜fim▁begin｜>", "<｜tool▁calls▁begin｜>", "<|reserved_special_token_5|>",
];

function markerTexts() {
  const out = [...markers];
  out.push(
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>assistant\n<think>\nThe user greets me.\n</think>\n\nHi there!<|im_end|>",
    "<think>\n\n</think>\n\n", "text<|endoftext|>more text", "Hello<|im_end|>world", "Hello <|im_end|> world",
    "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜>4<｜end▁of▁sentence｜>",
    "<｜User｜> spaced <｜Assistant｜> answer", "You are a helpful assistant.<｜User｜>hi",
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|start_header_id|>assistant<|end_header_id|>\n\n", "answer<|eot_id|>", "<s>[INST] Hello [/INST] Hi</s>",
    "<s> hello</s> <s>world</s>", "a<s>b</s>c", "<s><s></s></s>", "</s>trailing", "leading<s>",
    "<|im_start|><|im_start|><|im_end|>", "<|im_start|>\n<|im_end|>\n", "<|endoftext|><|endoftext|>",
    // near misses: not special tokens
    "<|im_start", "|im_start|>", "<|im_start |>", "< |im_end|>", "<|IM_START|>", "<|im_startt|>", "<<|im_end|>>",
    "<thinking>", "<think >", "</ think>", "<｜User>", "<|User|>", "<｜user｜>", "<|begin_of_text|",
    "<S>", "< s>", "<s >", "<ss>", "[PAD151700]", "[PAD129000]", "[INST]", "<0x41>", "<0xE4><0xBD><0xA0>",
    "Use <think> tags and </think> tags; also <|im_end|>.", "```\n<|im_start|>user\n```", "\n<|im_end|>\n",
    " <|im_start|> ", "\t<s>\t", "<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>",
    "<|fim_prefix|>def f():\n<|fim_suffix|>\n    return 1<|fim_middle|>",
  );
  return out;
}

/** Long texts: stress merges, caches and long runs. */
function longTexts() {
  const para = prose.slice(2, 12).join(" ");
  return [
    para,
    `${para}\n\n${para.toUpperCase()}\n\n${para.toLowerCase()}`,
    "a".repeat(300), "ab".repeat(200), "x ".repeat(150), "🙂".repeat(60), "中".repeat(120), "  \n".repeat(40),
    " ".repeat(257), "\n".repeat(65), "7".repeat(100), "1234567890".repeat(12), "=".repeat(200),
    "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
    "https://example.com/" + "segment/".repeat(30),
    scripts.slice(0, 30).join(" "),
    "word ".repeat(100) + "end",
  ];
}

/**
 * Mixtures: each text of one group joined with one of another, picked by a
 * fixed stride so the pairs differ but never change between runs.
 */
function mixtures(groups) {
  const out = [];
  const names = Object.keys(groups);
  const seps = ["", " ", "\n", ", ", "\t", "  ", ": "];
  let k = 0;
  for (let i = 0; i < names.length; i++) {
    for (let j = 0; j < names.length; j++) {
      if (i === j) continue;
      const a = groups[names[i]];
      const b = groups[names[j]];
      for (let r = 0; r < 2; r++) {
        const x = a[(7 * k + 3 * r) % a.length];
        const y = b[(11 * k + 5 * r + 1) % b.length];
        out.push(x + seps[k % seps.length] + y);
        k++;
      }
    }
  }
  return out;
}

/* ------------------------------------------------------------------- corpus */

/** The groups of the corpus, by name. */
export function corpusGroups() {
  const groups = {
    prose,
    contractions,
    numbers: numbers(),
    whitespace,
    code,
    web,
    scripts,
    emoji,
    combining,
    symbols,
    markers: markerTexts(),
    long: longTexts(),
  };
  groups.mixtures = mixtures({
    prose, contractions, numbers: groups.numbers, whitespace, code, scripts, emoji, combining, symbols,
    markers: groups.markers,
  });
  // The empty text, C0 controls, DEL, the last code point, private use.
  groups.edge = ["", "\u0001\u0002\u001f", "\u007f", "\u00ff\u00fe", "Ā", "\u{10ffff}", "\ue000\uf8ff"];
  return groups;
}

/** The texts, in order, duplicates removed (first occurrence kept). */
export function corpus() {
  const seen = new Set();
  const out = [];
  for (const texts of Object.values(corpusGroups())) {
    for (const t of texts) {
      if (seen.has(t)) continue;
      if (t.includes("\u0000") || t.includes("\u0085") || t.includes("\ufeff") || !t.isWellFormed()) {
        throw new Error(`corpus text not allowed: ${JSON.stringify(t)}`);
      }
      seen.add(t);
      out.push(t);
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (out) {
    const texts = corpus();
    writeFileSync(out, JSON.stringify(texts, null, 1) + "\n");
    process.stderr.write(`corpus: ${texts.length} texts written to ${out}\n`);
  } else {
    for (const [name, texts] of Object.entries(corpusGroups())) console.log(`${name}\t${texts.length}`);
    console.log(`total (distinct)\t${corpus().length}`);
  }
}
