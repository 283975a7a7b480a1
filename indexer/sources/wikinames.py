"""Names the wiki gives a meaning: file and category namespaces, interlanguage prefixes, image options.

English names and those of the languages most wikis are written in; a wiki's own aliases beyond
these are read as ordinary links.
"""

from __future__ import annotations

import re

# Namespace names of files and categories in the languages most wikis are written in.
FILE_NAMESPACES = frozenset(
    {"file", "image", "datei", "bild", "fichier", "archivo", "imagen", "immagine", "ficheiro", "arquivo",
     "imagem", "plik", "grafika", "bestand", "afbeelding", "fil", "tiedosto", "kuva", "soubor", "obrázek",
     "fájl", "kép", "fitxer", "imatge", "dosya", "resim", "berkas", "gambar", "tập tin", "hình", "файл",
     "изображение", "зображення", "датотека", "слика", "αρχείο", "εικόνα", "קובץ", "תמונה", "ملف", "صورة",
     "پرونده", "تصویر", "ファイル", "画像", "文件", "檔案", "图像", "圖像", "파일", "그림", "fișier",
     "imagine", "datoteka", "slika", "fail", "pilt", "attēls", "vaizdas", "failas", "skrá", "mynd"}
)  # fmt: skip
CATEGORY_NAMESPACES = frozenset(
    {"category", "kategorie", "catégorie", "categoría", "categoria", "kategoria", "категория", "категорія",
     "категорија", "kategori", "categorie", "luokka", "kategória", "kategorija", "flokkur", "kategooria",
     "κατηγορία", "קטגוריה", "تصنيف", "رده", "श्रेणी", "หมวดหมู่", "カテゴリ", "分类", "分類", "분류",
     "thể loại", "kategorio", "catagóir", "kategoriya"}
)  # fmt: skip
# `[[fr:Anarchisme]]`: a language code as prefix; these short prefixes are other wikis, not languages.
LANGUAGE_PREFIX = re.compile(r"^(?:[a-z]{2,3}(?:-[a-z0-9]{1,8})*|simple)$")
NOT_LANGUAGES = frozenset({"mw", "wp", "wt", "doi", "rfc", "irc", "voy", "iso"})

# Image options (English and the commonest translations); the caption is what is left.
IMAGE_KEYWORDS = frozenset(
    {"thumb", "thumbnail", "frame", "framed", "enframed", "frameless", "border", "left", "right", "center",
     "centre", "none", "baseline", "middle", "sub", "super", "sup", "text-top", "text-bottom", "top",
     "bottom", "upright", "lossless", "loop", "muted", "miniatur", "mini", "hochkant", "links", "rechts",
     "zentriert", "ohne", "rahmen", "gerahmt", "rahmenlos", "vignette", "gauche", "droite", "centré",
     "néant", "cadre", "encadré", "sans_cadre", "redresse", "miniatura", "miniaturadeimagen", "izquierda",
     "derecha", "centro", "ninguno", "marco", "enmarcado", "sinmarco", "vertical", "borde", "sinistra",
     "destra", "nessuno", "riquadrato", "senza_cornice", "verticale", "miniaturadaimagem", "esquerda",
     "direita", "nenhum", "moldura", "semmoldura", "borda", "miniatuur", "gecentreerd", "geen", "kader",
     "kaderloos", "rand", "staand", "mały", "lewo", "prawo", "centruj", "brak", "ramka", "bezramki", "мини",
     "миниатюра", "слева", "справа", "центр", "без", "обрамить", "безрамки", "граница", "miniatyr",
     "vänster", "höger", "centrerad", "ingen", "ram", "ramlös"}
)  # fmt: skip
IMAGE_KEYED = re.compile(
    r"^\s*(?:alt|link|page|class|lang|thumb|thumbnail|thumbtime|start|end|upright|border|hochkant|redresse|"
    r"alternativtext|verweis|lien|enlace|collegamento|ligação|koppeling|ссылка|альт|seite)\s*=",
    re.I,
)
IMAGE_SIZE = re.compile(r"^\s*\d*(?:\s*x\s*\d+)?\s*(?:px|пкс|пикс|픽셀|ピクセル|像素)\s*$", re.I)
FRAMED = frozenset({"thumb", "thumbnail", "frame", "framed", "miniatur", "mini", "vignette", "miniatura",
                     "miniaturadeimagen", "miniaturadaimagem", "miniatuur", "mały", "мини", "миниатюра",
                     "miniatyr", "rahmen", "cadre", "marco", "kader", "ramka", "ram"})  # fmt: skip


def is_image_option(text: str) -> bool:
    value = text.strip()
    return (
        value.lower() in IMAGE_KEYWORDS or IMAGE_SIZE.match(value) is not None or IMAGE_KEYED.match(value) is not None
    )
