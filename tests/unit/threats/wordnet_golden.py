#!/usr/bin/env python3
"""Prints the expected WordNet synonym sets of text_threats_test.cpp (WordNet.SynonymSetsAreWordNets).

Source of truth: the `wn` command of Debian's wordnet package (WordNet 3.0), which searches a word and every
base form of it that WordNet's morphology finds. For each sense of each part of speech, the synset is the line
after "Sense N"; collocations (shown with spaces, '_' in the database) are dropped, "(vs. ...)" antonym notes
and "(predicate)"-style adjective markers removed, words lower-cased, and the word itself dropped.
usage: tests/unit/threats/wordnet_golden.py film quickly dogs ran
"""
import re
import subprocess
import sys


def synonyms(word):
    out = subprocess.run(["wn", word, "-synsn", "-synsv", "-synsa", "-synsr"], capture_output=True, text=True,
                         check=False).stdout.splitlines()
    words = set()
    for i, line in enumerate(out):
        if re.fullmatch(r"Sense \d+", line) and i + 1 < len(out):
            synset = re.sub(r" \(vs\. [^)]*\)", "", out[i + 1])
            for w in synset.split(", "):
                w = re.sub(r"\([a-z]+\)$", "", w.strip())
                if w and " " not in w:
                    words.add(w.lower())
    words.discard(word)
    return sorted(words)


for w in sys.argv[1:]:
    print(f'{{"{w}", "{" ".join(synonyms(w))}"}},')
