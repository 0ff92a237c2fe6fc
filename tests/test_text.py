"""matx_nb.text against HF tokenizers' BertWordPieceTokenizer: the compiled
BERT basic tokenizer + WordPiece give the same pieces and ids, and the batch
builder the same input_ids / token_type_ids / attention_mask, on a corpus with
English, accents, punctuation, Chinese, emojis, control characters and odd
whitespace. The vocabulary is trained on the corpus by HF itself (no download)."""
import numpy as np
import pytest

tokenizers = pytest.importorskip("tokenizers")

import matx_nb.text as text  # noqa: E402
from matx_nb.text import bert  # noqa: E402

TRAIN = [
    "Hello, world! This is a test of the BERT tokenizer.",
    "Héllo wörld: Crème brûlée, naïve café, résumé, Ångström, façade.",
    "Don't stop-believing... (really?) [yes] {no} <maybe> #hashtag @user $100 50% a&b *star* ~tilde` ^caret_",
    "北京欢迎你。我爱自然语言处理！中文分词测试，你好世界。",
    "Emojis 😀🎉👍🏽 mixed with text; and ★ symbols ©®™ — dashes – and “quotes” «guillemets».",
    "Numbers 3.14159, 2,718 and 1e-10; versions v1.2.3-beta+build.5.",
    "ÉCOLE ÉLÉMENTAIRE, ŒUVRE, ÆSIR, straße, İstanbul, ΣΊΣΥΦΟΣ, Привет мир.",
    "Tabs\tand\nnewlines\r\nand\u00a0no-break\u2003em-space\u3000ideographic space.",
    "Japanese かなカナ and Korean 한국어 text, Thai ภาษาไทย, Arabic العربية.",
    "tokenization tokenizer tokenized tokens token tok to t",
    "unbelievable unbelievably believer believes believed belief",
]
HELD_OUT = [
    "",
    "   ",
    "Hello",
    "HELLO, WORLD!!!",
    "Unseen words: xylophone quizzically zephyr.",
    "控制\x00字符\x07和\ufffd替换 and \x1b escapes \u200b zero-width \u2028 line sep",
    "a" * 101 + " " + "b" * 100,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Mixed中文English混合text测试",
    "naïve Naïve NAÏVE ñandú Ñandú",
    "🎉🎉 party!! 🎉",
    "e\u0301 composed é vs decomposed e\u0301",
    "x" * 30 + "," * 10 + " trailing",
    "日本語のテキスト、漢字とひらがな。",
    "𠀀𠀁 extension-B chars and 〇 and 々",
]


@pytest.fixture(scope="module")
def vocab_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("vocab")
    hf = tokenizers.BertWordPieceTokenizer(lowercase=True)
    hf.train_from_iterator(TRAIN * 3, vocab_size=400, min_frequency=1,
                           special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    hf.save_model(str(d))
    return str(d / "vocab.txt")


@pytest.fixture(scope="module")
def hf(vocab_file):
    return tokenizers.BertWordPieceTokenizer(vocab_file, lowercase=True)


@pytest.fixture(scope="module")
def tok(vocab_file):
    return text.BertTokenizer(vocab_file)


CORPUS = TRAIN + HELD_OUT


@pytest.mark.parametrize("i", range(len(CORPUS)))
def test_pieces_and_ids_match_hf(hf, tok, i):
    s = CORPUS[i]
    enc = hf.encode(s, add_special_tokens=False)
    assert tok.tokenize(s) == enc.tokens
    assert tok.encode(s) == enc.ids


def test_batch_call_and_unk(hf, tok):
    assert tok(CORPUS) == [e.ids for e in hf.encode_batch(CORPUS, add_special_tokens=False)]
    assert "[UNK]" in tok.tokenize(HELD_OUT[6])  # a word over 100 characters


def test_python_original_agrees_with_compiled(vocab_file, tok):
    py = bert.BertTokenizer(vocab_file)  # the same source, run by CPython
    for s in CORPUS:
        assert py.tokenize(s) == tok.tokenize(s)


def test_basic_tokenizer_and_vocabulary_ops(hf, vocab_file):
    basic = text.BasicTokenizer()
    vocab = text.Vocabulary(vocab_file)
    words = basic(CORPUS)
    assert vocab(words) == [e.ids for e in hf.encode_batch(CORPUS, add_special_tokens=False)]
    pre = hf.pre_tokenizer.pre_tokenize_str(hf.normalizer.normalize_str(CORPUS[1]))
    assert words[1] == [w for w, _ in pre]


@pytest.mark.parametrize("max_len", [4, 16, 64])
def test_builder_matches_hf_padding_and_truncation(vocab_file, tok, max_len):
    hf = tokenizers.BertWordPieceTokenizer(vocab_file, lowercase=True)
    hf.enable_truncation(max_length=max_len)
    hf.enable_padding(length=max_len, pad_id=0, pad_token="[PAD]")
    cls_id, sep_id = hf.token_to_id("[CLS]"), hf.token_to_id("[SEP]")
    builder = text.TextNDArrayBuilder(cls_id, sep_id, 0)
    decoded = text.utf8_decoder([s.encode() for s in CORPUS])
    assert decoded == CORPUS
    input_ids, segment_ids, mask = builder(tok(decoded), max_len)
    encs = hf.encode_batch(CORPUS)
    for nd, field in ((input_ids, "ids"), (segment_ids, "type_ids"), (mask, "attention_mask")):
        a = nd.numpy()
        assert a.dtype == np.int64 and a.shape == (len(CORPUS), max_len)
        np.testing.assert_array_equal(a, np.array([getattr(e, field) for e in encs]))


def test_utf8_decoder_replaces_bad_bytes():
    bad = [b"ok", b"\xff\xfeabc", "中文".encode()]
    assert text.utf8_decoder(bad) == [b.decode("utf-8", "replace") for b in bad]
