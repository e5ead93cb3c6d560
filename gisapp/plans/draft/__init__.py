"""Drafting a zone file from a plan's text (``gisapp plan draft``): sections → names → places → YAML.

The pipeline, one small module each:

* :mod:`.readers` — the plan as numbered lines (.txt, .docx through python-docx, text-layer .pdf
  through pypdf);
* :mod:`.text` — the lines as one normalised character stream that remembers every character's line;
* :mod:`.sections` — the spatial-structure sections and the 专栏 that list places;
* :mod:`.lexicon` — the names the draft knows (gazetteer, 镇街, NBS 区划 districts) and the jieba
  tokenizer that uses them as its user dictionary;
* :mod:`.extract` — the named elements with their line and sentence, roles and member lists;
* :mod:`.propose` — a geometry method per element, with its uncertainty, or ``unplaced``;
* :mod:`.writer` — the zone file (every element ``status: draft``).

:func:`gisapp.plans.draft.pipeline.draft_plan` runs them in order.
"""
