"""Languages: codes, detection, sumy's stemmers and stop words, and every script family."""

from __future__ import annotations

import pytest

from summarise.language import detect_language, language_profile, normalise_language
from summarise.summarisers import ALGORITHMS, Length, summarise_text
from summarise.tokenizer import Tokenizer, word_count


@pytest.mark.parametrize(
    ("declared", "code"),
    [
        ("en", "en"),
        ("de-DE", "de"),
        ("pt_BR", "pt"),
        ("EN-us", "en"),
        ("English", "en"),
        ("iw", "he"),
        ("zh-TW", "zh"),
        ("", None),
        (None, None),
        ("not a language", None),
    ],
)
def test_declared_languages_are_normalised_to_iso_codes(declared: str | None, code: str) -> None:
    assert normalise_language(declared) == code


def test_languages_sumy_knows_get_its_stemmer_and_stop_words() -> None:
    english = language_profile("en")
    assert english.sumy_name == "english"
    assert english.stem("running") == "run"
    assert "the" in english.stop_words
    german = language_profile("de")
    assert german.stem("häuser") == "haus"
    assert "und" in german.stop_words
    russian = language_profile("ru")
    assert russian.stem("книги") == "книг"
    czech = language_profile("cs")
    assert czech.stop_words


def test_unknown_languages_fall_back_to_lower_casing() -> None:
    profile = language_profile("xx")
    assert profile.stem("Word") == "word"
    assert profile.stop_words == frozenset()
    assert language_profile(None).stop_words == frozenset()


SAMPLES = {
    "en": "The government announced new measures on Monday to tackle rising energy prices. "
    "Ministers said the plan would help millions of households through the winter. "
    "Critics argued that the support came too late for many families.",
    "de": "Die Regierung hat am Montag neue Maßnahmen gegen die steigenden Energiepreise "
    "angekündigt. Die Minister sagten, der Plan werde Millionen Haushalten helfen. "
    "Kritiker meinten, die Hilfe komme für viele Familien zu spät.",
    "ru": "Правительство в понедельник объявило о новых мерах против роста цен на энергию. "
    "Министры заявили, что план поможет миллионам семей пережить зиму. "
    "Критики считают, что помощь пришла слишком поздно.",
    "el": "Η κυβέρνηση ανακοίνωσε τη Δευτέρα νέα μέτρα για τις τιμές της ενέργειας. "
    "Οι υπουργοί είπαν ότι το σχέδιο θα βοηθήσει εκατομμύρια νοικοκυριά. "
    "Οι επικριτές υποστήριξαν ότι η στήριξη ήρθε πολύ αργά.",
    "he": "הממשלה הודיעה ביום שני על צעדים חדשים נגד עליית מחירי האנרגיה. "
    "השרים אמרו שהתוכנית תעזור למיליוני משקי בית. "
    "המבקרים טענו שהתמיכה הגיעה מאוחר מדי.",
    "zh": "政府星期一宣布了应对能源价格上涨的新措施。部长们说，该计划将帮助数百万家庭度过冬天。"
    "批评者认为这些支持来得太晚了。",
    "ja": "政府は月曜日、エネルギー価格の上昇に対する新たな対策を発表した。"
    "大臣らは、この計画が何百万もの世帯を助けると述べた。批判的な人々は支援が遅すぎると主張した。",
    "ar": "أعلنت الحكومة يوم الاثنين عن إجراءات جديدة لمواجهة ارتفاع أسعار الطاقة. "
    "وقال الوزراء إن الخطة ستساعد ملايين الأسر. ورأى المنتقدون أن الدعم جاء متأخرا؟ نعم.",
    "hi": "सरकार ने सोमवार को ऊर्जा की बढ़ती कीमतों से निपटने के लिए नए उपायों की घोषणा की। "
    "मंत्रियों ने कहा कि यह योजना लाखों परिवारों की मदद करेगी। "
    "आलोचकों ने कहा कि मदद बहुत देर से आई।",
}


@pytest.mark.parametrize("code", ["en", "de", "ru", "el", "he", "zh", "ja", "hi"])
def test_detects_the_language_of_undeclared_text(code: str) -> None:
    assert detect_language(SAMPLES[code]) == code


def test_detection_is_deterministic() -> None:
    text = SAMPLES["de"]
    assert len({detect_language(text) for _ in range(5)}) == 1


def test_text_without_letters_has_no_language() -> None:
    assert detect_language("12 345 — 678 !!!") is None


@pytest.mark.parametrize("code", sorted(SAMPLES))
@pytest.mark.parametrize("name", ALGORITHMS)
def test_every_algorithm_summarises_every_script(code: str, name: str) -> None:
    summary = summarise_text(SAMPLES[code], length=Length(sentences=2), algorithm=name)
    assert len(summary) == 2
    for sentence in summary:
        assert sentence in SAMPLES[code]


@pytest.mark.parametrize("code", ["zh", "ja", "he", "el", "ru"])
def test_declared_and_detected_languages_agree(code: str) -> None:
    declared = summarise_text(SAMPLES[code], length=Length(sentences=1), language=code)
    detected = summarise_text(SAMPLES[code], length=Length(sentences=1))
    assert declared == detected


def test_unspaced_scripts_are_tokenised_into_character_bigrams() -> None:
    assert Tokenizer("zh").to_words("政府宣布了") == ("政府", "府宣", "宣布", "布了")
    assert Tokenizer("ja").to_words("日本 Tokyo 2024") == ("日本", "Tokyo", "2024")
    assert Tokenizer("zh").to_words("好") == ("好",)


def test_word_budget_counts_each_unspaced_character_as_a_word() -> None:
    assert word_count("政府宣布了") == 5
    assert word_count("The U.S. economy grew — by 2.5%.") == 6
    summary = summarise_text(SAMPLES["zh"], length=Length(words=30), language="zh")
    assert summary
    assert sum(word_count(s) for s in summary) <= 30


def test_unknown_language_still_gets_a_summary() -> None:
    text = (
        "Mi ne scias kion diri. La vetero estas bela hodiaŭ. "
        "Ni iros al la parko morgaŭ. Miaj amikoj venos kun ni."
    )
    summary = summarise_text(text, length=Length(sentences=2), language="eo")
    assert len(summary) == 2


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("language", ["cs", "sk"])  # sumy stems Slovak as Czech
def test_czech_numbers_are_kept_as_they_are_without_a_warning_each(language: str) -> None:
    from sumy.nlp.stemmers.czech import stem_word

    czech = language_profile(language)
    words = ["2026", "26", "3,5", "vlády", "ministr", "praha", "x1"]
    with pytest.warns(UserWarning):  # what sumy's stemmer itself does with a number
        stem_word("2026")
    assert [czech.stem(word) for word in words] == [
        word if not (word.islower() or word.isupper()) else stem_word(word) for word in words
    ]
