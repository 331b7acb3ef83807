"""Where demo households stand: a small box on land for every province, and for every regency
that lies on another island than its province's box (Madura, Sumbawa, Flores, Sumba, Nias …).

Hand-made for synthetic data, not derived from any dataset (no licensed table of regency
coordinates could be installed from the registries the project uses; the region sources have
none). Each box is a few tens of kilometres wide, drawn inside the land of its province around
well-known towns, away from coasts, bays and large lakes, so a demo point lies in the right
province and on the right island. For regencies that share an island with their province's box,
the point is in the province but not necessarily in that regency. Boxes are
``(south, north, west, east)`` in decimal degrees (WGS 84).
"""

from __future__ import annotations

Box = tuple[float, float, float, float]

# Province code -> a box on its main land (the island most of its people live on).
PROVINCE_BOXES: dict[str, Box] = {
    "11": (4.20, 4.90, 96.40, 97.30),  # Aceh: Gayo highlands
    "12": (2.90, 3.40, 98.60, 99.30),  # Sumatera Utara: Deli Serdang, Simalungun
    "13": (-0.90, -0.25, 100.62, 100.85),  # Sumatera Barat: Solok, Tanah Datar, Lima Puluh Kota
    "14": (0.00, 0.90, 101.20, 102.20),  # Riau: Kampar, Pelalawan, Siak
    "15": (-2.00, -1.30, 102.30, 103.50),  # Jambi
    "16": (-3.80, -2.80, 103.30, 104.60),  # Sumatera Selatan
    "17": (-3.70, -3.30, 102.45, 102.65),  # Bengkulu: Rejang Lebong, Kepahiang
    "18": (-5.20, -4.30, 104.70, 105.60),  # Lampung
    "19": (-2.30, -2.00, 105.70, 106.00),  # Kepulauan Bangka Belitung: Bangka
    "21": (0.95, 1.10, 104.42, 104.55),  # Kepulauan Riau: Bintan
    "31": (-6.30, -6.15, 106.75, 106.95),  # DKI Jakarta
    "32": (-7.20, -6.50, 106.90, 108.20),  # Jawa Barat
    "33": (-7.45, -7.05, 109.20, 110.90),  # Jawa Tengah
    "34": (-7.90, -7.65, 110.25, 110.60),  # DI Yogyakarta
    "35": (-8.10, -7.50, 111.30, 112.60),  # Jawa Timur: Madiun to Malang
    "36": (-6.60, -6.20, 105.95, 106.35),  # Banten: Pandeglang, Lebak, Serang
    "51": (-8.40, -8.25, 115.00, 115.40),  # Bali
    "52": (-8.75, -8.45, 116.10, 116.50),  # Nusa Tenggara Barat: Lombok
    "53": (-10.00, -9.60, 124.10, 124.50),  # Nusa Tenggara Timur: Timor
    "61": (-0.50, 1.00, 109.80, 111.50),  # Kalimantan Barat
    "62": (-2.00, -0.80, 112.50, 114.50),  # Kalimantan Tengah
    "63": (-3.20, -2.30, 114.80, 115.50),  # Kalimantan Selatan
    "64": (-0.70, 0.70, 115.50, 117.00),  # Kalimantan Timur
    "65": (2.50, 3.80, 116.00, 117.20),  # Kalimantan Utara
    "71": (0.65, 0.85, 123.90, 124.60),  # Sulawesi Utara: Bolaang Mongondow
    "72": (-1.60, -1.10, 119.90, 120.40),  # Sulawesi Tengah: Sigi, Poso highlands
    "73": (-3.50, -3.10, 119.80, 120.10),  # Sulawesi Selatan: Enrekang, Tana Toraja
    "74": (-4.20, -3.60, 121.80, 122.30),  # Sulawesi Tenggara: Konawe
    "75": (0.55, 0.80, 122.30, 122.80),  # Gorontalo
    "76": (-3.00, -2.30, 119.00, 119.40),  # Sulawesi Barat: Mamuju, Mamasa
    "81": (-3.20, -3.00, 129.00, 129.90),  # Maluku: Seram
    "82": (1.40, 1.70, 127.80, 127.95),  # Maluku Utara: Halmahera
    "91": (-3.00, -2.75, 140.20, 140.60),  # Papua: Jayapura, Keerom
    "92": (-1.30, -0.95, 133.60, 134.00),  # Papua Barat: Manokwari, Arfak
    "93": (-7.50, -6.60, 139.60, 140.60),  # Papua Selatan: Merauke, Boven Digoel
    "94": (-4.00, -3.60, 137.00, 137.60),  # Papua Tengah: Intan Jaya, Puncak
    "95": (-4.20, -3.80, 138.70, 139.20),  # Papua Pegunungan: Jayawijaya
    "96": (-1.00, -0.75, 131.50, 132.10),  # Papua Barat Daya: Sorong, Maybrat
}

# Regency code -> a box on its own island, where that is not the island of its province's box.
REGENCY_BOXES: dict[str, Box] = {
    "11.09": (2.55, 2.70, 96.00, 96.20),  # Simeulue
    "11.72": (5.83, 5.87, 95.30, 95.34),  # Sabang (Weh)
    "12.04": (1.00, 1.15, 97.60, 97.75),  # Nias
    "12.14": (0.60, 0.80, 97.70, 97.85),  # Nias Selatan
    "12.24": (1.30, 1.38, 97.30, 97.40),  # Nias Utara
    "12.25": (0.95, 1.10, 97.45, 97.55),  # Nias Barat
    "12.78": (1.25, 1.30, 97.57, 97.60),  # Gunungsitoli
    "13.09": (-1.45, -1.25, 98.85, 99.10),  # Kepulauan Mentawai (Siberut)
    "14.10": (0.85, 0.95, 102.60, 102.75),  # Kepulauan Meranti
    "19.02": (-2.95, -2.70, 107.75, 108.10),  # Belitung
    "19.06": (-2.95, -2.70, 107.75, 108.10),  # Belitung Timur
    "21.02": (1.00, 1.08, 103.35, 103.43),  # Karimun
    "21.03": (3.85, 4.00, 108.10, 108.30),  # Natuna
    "21.04": (-0.25, -0.10, 104.50, 104.70),  # Lingga
    "21.05": (3.20, 3.24, 106.23, 106.27),  # Kepulauan Anambas (Siantan)
    "21.71": (1.05, 1.13, 103.98, 104.08),  # Batam
    "31.01": (-5.748, -5.742, 106.610, 106.618),  # Kepulauan Seribu (Pramuka)
    "35.26": (-7.10, -6.95, 112.80, 113.00),  # Bangkalan (Madura)
    "35.27": (-7.10, -6.95, 113.10, 113.30),  # Sampang (Madura)
    "35.28": (-7.10, -6.95, 113.40, 113.55),  # Pamekasan (Madura)
    "35.29": (-7.05, -6.95, 113.70, 113.95),  # Sumenep (Madura)
    "51.05": (-8.55, -8.50, 115.38, 115.42),  # Klungkung (mainland Bali)
    "52.04": (-8.80, -8.60, 117.20, 117.60),  # Sumbawa
    "52.05": (-8.65, -8.50, 118.30, 118.50),  # Dompu (Sumbawa)
    "52.06": (-8.70, -8.55, 118.60, 118.90),  # Bima (Sumbawa)
    "52.07": (-8.85, -8.70, 116.88, 117.05),  # Sumbawa Barat
    "52.72": (-8.50, -8.44, 118.75, 118.80),  # Kota Bima (Sumbawa)
    "53.05": (-8.30, -8.20, 124.60, 124.90),  # Alor
    "53.06": (-8.45, -8.30, 122.75, 122.95),  # Flores Timur
    "53.07": (-8.75, -8.65, 122.00, 122.40),  # Sikka (Flores)
    "53.08": (-8.75, -8.60, 121.55, 121.90),  # Ende (Flores)
    "53.09": (-8.85, -8.70, 120.90, 121.10),  # Ngada (Flores)
    "53.10": (-8.65, -8.55, 120.35, 120.55),  # Manggarai (Flores)
    "53.11": (-9.95, -9.70, 120.00, 120.40),  # Sumba Timur
    "53.12": (-9.70, -9.60, 119.35, 119.50),  # Sumba Barat
    "53.13": (-8.45, -8.35, 123.45, 123.65),  # Lembata
    "53.14": (-10.80, -10.70, 123.00, 123.20),  # Rote Ndao
    "53.15": (-8.65, -8.50, 119.95, 120.20),  # Manggarai Barat (Flores)
    "53.16": (-8.75, -8.60, 121.20, 121.40),  # Nagekeo (Flores)
    "53.17": (-9.65, -9.50, 119.60, 119.75),  # Sumba Tengah
    "53.18": (-9.60, -9.45, 119.05, 119.25),  # Sumba Barat Daya
    "53.19": (-8.70, -8.55, 120.60, 120.80),  # Manggarai Timur (Flores)
    "53.20": (-10.55, -10.50, 121.80, 121.95),  # Sabu Raijua
    "63.02": (-3.60, -3.30, 116.05, 116.20),  # Kotabaru (Pulau Laut)
    "65.71": (3.30, 3.38, 117.58, 117.62),  # Tarakan
    "71.03": (3.45, 3.65, 125.50, 125.58),  # Kepulauan Sangihe
    "71.04": (4.10, 4.30, 126.75, 126.82),  # Kepulauan Talaud
    "71.09": (2.70, 2.78, 125.38, 125.44),  # Siau Tagulandang Biaro
    "72.07": (-1.45, -1.30, 123.00, 123.30),  # Banggai Kepulauan (Peling)
    "72.11": (-1.62, -1.55, 123.48, 123.55),  # Banggai Laut
    "73.01": (-6.30, -5.90, 120.46, 120.52),  # Kepulauan Selayar
    "74.03": (-5.00, -4.70, 122.50, 122.70),  # Muna
    "74.04": (-5.30, -5.00, 122.85, 123.05),  # Buton
    "74.07": (-5.32, -5.26, 123.55, 123.60),  # Wakatobi (Wangi-Wangi)
    "74.10": (-5.30, -5.00, 122.85, 123.05),  # Buton Utara
    "74.12": (-4.15, -4.08, 123.00, 123.10),  # Konawe Kepulauan (Wawonii)
    "74.13": (-5.00, -4.70, 122.50, 122.70),  # Muna Barat
    "74.14": (-5.30, -5.00, 122.85, 123.05),  # Buton Tengah
    "74.15": (-5.30, -5.00, 122.85, 123.05),  # Buton Selatan
    "74.72": (-5.30, -5.00, 122.85, 123.05),  # Bau Bau (Buton)
    "81.03": (-7.90, -7.60, 131.30, 131.45),  # Kepulauan Tanimbar (Yamdena)
    "81.02": (-5.80, -5.60, 132.70, 132.78),  # Maluku Tenggara (Kei Kecil)
    "81.04": (-3.60, -3.20, 126.30, 126.80),  # Buru
    "81.07": (-6.20, -5.90, 134.35, 134.55),  # Kepulauan Aru
    "81.08": (-7.85, -7.75, 126.10, 126.50),  # Maluku Barat Daya (Wetar)
    "81.09": (-3.60, -3.20, 126.30, 126.80),  # Buru Selatan
    "81.71": (-3.74, -3.68, 128.17, 128.27),  # Ambon (Leitimur)
    "81.72": (-5.63, -5.60, 132.74, 132.76),  # Tual (Dullah)
    "82.04": (-0.70, -0.55, 127.50, 127.62),  # Halmahera Selatan (Bacan)
    "82.05": (-2.10, -2.03, 125.95, 126.05),  # Kepulauan Sula (Sanana)
    "82.07": (2.20, 2.45, 128.35, 128.60),  # Pulau Morotai
    "82.08": (-1.85, -1.78, 124.70, 124.95),  # Pulau Taliabu
    "82.71": (0.77, 0.82, 127.33, 127.36),  # Ternate
    "82.72": (0.66, 0.70, 127.41, 127.44),  # Tidore
    "91.05": (-1.80, -1.70, 136.00, 136.30),  # Kepulauan Yapen
    "91.06": (-1.10, -0.95, 135.95, 136.15),  # Biak Numfor
    "91.19": (-0.78, -0.72, 135.55, 135.65),  # Supiori
    "96.03": (-1.20, -1.05, 130.85, 131.05),  # Raja Ampat (Salawati)
}


def box_of(village_code: str) -> Box:
    """The box a demo household of ``village_code`` stands in (its regency's, else its province's)."""
    return REGENCY_BOXES.get(village_code[:5]) or PROVINCE_BOXES[village_code[:2]]
