#!/usr/bin/env python3
"""Check that the sources and the meson files keep to the layers in layers.txt.

Usage: check_layers.py [--rules FILE] ROOT

ROOT is the source tree; FILE defaults to ROOT/layers.txt. Prints one line
per violation (path:line: what) and exits 1 if there is any, 0 if none, 2 if
the rules file cannot be read.

What is checked, for every .c and .h under each layer folder:
  #include "x.h"      resolved as the compiler would with each layer folder
                      on the include path: the including file's own folder
                      first, then the layer folders, then include/. The
                      header must exist, and belong to the file's own layer
                      or to one its line in layers.txt names; an "only" rule
                      limits which layers may include that header.
  #include <group/x.h> must exist in include/group/.
  #include <x.h>       a system header; ignored.
and for each layer folder's meson.build: every grp_*_dep it names is its own
or that of a layer it may use.
"""

import argparse
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]*)[>"]')
DEP_NAME = re.compile(r'\bgrp_\w+_dep\b')
PUBLIC_DIR = 'include'


class RulesError(Exception):
    pass


class Rules:
    def __init__(self):
        self.order = []      # layer names, lowest first
        self.dep = {}        # layer -> meson dependency name
        self.uses = {}       # layer -> set of layers it may use
        self.only = {}       # header path -> set of layers that may include it
        self.outside = set()

    def may_use(self, layer, other):
        return other == layer or other in self.uses[layer]


def parse_rules(path):
    rules = Rules()
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    for number, line in enumerate(lines, 1):
        words = line.split('#', 1)[0].split()
        if not words:
            continue
        where = '%s:%d' % (path, number)
        kind = words[0]
        if kind == 'layer':
            if len(words) < 4 or words[3] != 'uses':
                raise RulesError(where + ': expected "layer <folder> <dep> uses <layer> ..."')
            name, dep, uses = words[1], words[2], words[4:]
            if name in rules.uses:
                raise RulesError('%s: layer %s listed twice' % (where, name))
            for used in uses:
                if used not in rules.uses:
                    raise RulesError('%s: layer %s uses %s, which is not listed above it'
                                     % (where, name, used))
            rules.order.append(name)
            rules.dep[name] = dep
            rules.uses[name] = set(uses)
        elif kind == 'only':
            if len(words) < 4 or words[2] != 'by':
                raise RulesError(where + ': expected "only <folder/header.h> by <layer> ..."')
            rules.only[words[1]] = set(words[3:])
        elif kind == 'outside':
            rules.outside.update(words[1:])
        else:
            raise RulesError('%s: unknown line kind "%s"' % (where, kind))
    for header, layers in rules.only.items():
        for layer in layers | {header.split('/', 1)[0]}:
            if layer not in rules.uses:
                raise RulesError('%s: "only %s" names %s, which is not a layer'
                                 % (path, header, layer))
    return rules


def sources(root, folder):
    """Every .c and .h under root/folder, as paths relative to root."""
    found = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith('.'))
        for name in sorted(filenames):
            if name.endswith(('.c', '.h')):
                found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return found


def top_folder(relpath):
    return relpath.replace(os.sep, '/').split('/', 1)[0]


def within(root, relpath):
    return not relpath.startswith('..') and not os.path.isabs(relpath)


class Checker:
    def __init__(self, root, rules):
        self.root = root
        self.rules = rules
        self.layers = [l for l in rules.order if os.path.isdir(os.path.join(root, l))]
        self.violations = []
        self.files = 0

    def report(self, path, line, text):
        self.violations.append((path.replace(os.sep, '/'), line, text))

    def is_file(self, relpath):
        return os.path.isfile(os.path.join(self.root, relpath))

    def resolve(self, source, name):
        """The tree-relative path of the header `#include "name"` in source
        gets, or None. Raises LookupError when several layers offer it."""
        own = os.path.normpath(os.path.join(os.path.dirname(source), name))
        if within(self.root, own) and self.is_file(own):
            return own
        layer = top_folder(source)
        own_root = os.path.normpath(os.path.join(layer, name))
        if self.is_file(own_root):
            return own_root
        offers = [os.path.normpath(os.path.join(l, name)) for l in self.layers
                  if l != layer]
        offers = [p for p in offers if within(self.root, p) and self.is_file(p)]
        if len(offers) > 1:
            raise LookupError(', '.join(top_folder(p) for p in offers))
        if offers:
            return offers[0]
        public = os.path.normpath(os.path.join(PUBLIC_DIR, name))
        if within(self.root, public) and self.is_file(public):
            return public
        return None

    def check_include(self, source, number, bracket, name):
        layer = top_folder(source)
        if bracket == '<':
            if name.startswith('group/') and not self.is_file(os.path.join(PUBLIC_DIR, name)):
                self.report(source, number, 'includes <%s>, which is not in %s/group/'
                            % (name, PUBLIC_DIR))
            return
        try:
            header = self.resolve(source, name)
        except LookupError as several:
            self.report(source, number, 'includes "%s", a header of each of the layers %s: '
                        'which one it gets depends on the include path' % (name, several))
            return
        if header is None:
            self.report(source, number, 'includes "%s", which is no header in the tree '
                        '(a hidden include path)' % name)
            return
        header = header.replace(os.sep, '/')
        owner = top_folder(header)
        if owner == PUBLIC_DIR:
            pass
        elif owner not in self.rules.uses:
            self.report(source, number, 'includes %s, which is in no layer' % header)
        elif not self.rules.may_use(layer, owner):
            self.report(source, number, 'includes header of layer %s (%s), which layer %s '
                        'may not use' % (owner, header, layer))
        allowed = self.rules.only.get(header)
        if allowed is not None and layer not in allowed:
            self.report(source, number, 'includes %s, which only %s may include'
                        % (header, ' and '.join(l for l in self.rules.order if l in allowed)))

    def check_sources(self):
        for layer in self.layers:
            for source in sources(self.root, layer):
                self.files += 1
                with open(os.path.join(self.root, source), encoding='utf-8',
                          errors='replace') as f:
                    for number, line in enumerate(f, 1):
                        match = INCLUDE.match(line)
                        if match:
                            self.check_include(source, number, match.group(1), match.group(2))

    def check_meson(self):
        owner_of = {dep: layer for layer, dep in self.rules.dep.items()}
        for layer in self.layers:
            path = os.path.join(layer, 'meson.build')
            if not self.is_file(path):
                continue
            defines = False
            with open(os.path.join(self.root, path), encoding='utf-8') as f:
                for number, line in enumerate(f, 1):
                    code = line.split('#', 1)[0]
                    if re.match(r'\s*%s\s*=' % re.escape(self.rules.dep[layer]), code):
                        defines = True
                    for dep in DEP_NAME.findall(code):
                        used = owner_of.get(dep)
                        if used is None:
                            self.report(path, number, 'names %s, which is no layer\'s '
                                        'dependency in layers.txt' % dep)
                        elif not self.rules.may_use(layer, used):
                            self.report(path, number, 'depends on %s, of layer %s, which '
                                        'layer %s may not use' % (dep, used, layer))
            if not defines:
                self.report(path, 1, 'does not define %s, the dependency layers.txt gives '
                            'layer %s' % (self.rules.dep[layer], layer))

    def check_folders(self):
        known = set(self.rules.order) | self.rules.outside
        for name in sorted(os.listdir(self.root)):
            if name.startswith('.') or name in known:
                continue
            if self.is_file(os.path.join(name, 'meson.build')):
                self.report(os.path.join(name, 'meson.build'), 1, 'folder %s is neither a '
                            'layer nor outside the layers in layers.txt' % name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('root', help='the source tree')
    parser.add_argument('--rules', help='the layer list (default ROOT/layers.txt)')
    args = parser.parse_args()
    root = os.path.abspath(args.root)
    try:
        rules = parse_rules(args.rules or os.path.join(root, 'layers.txt'))
    except (OSError, RulesError) as error:
        print('check_layers: %s' % error, file=sys.stderr)
        return 2
    checker = Checker(root, rules)
    checker.check_sources()
    checker.check_meson()
    checker.check_folders()
    for path, number, text in sorted(checker.violations):
        print('%s:%d: %s' % (path, number, text))
    if checker.violations:
        print('check_layers: %d violations in %s' % (len(checker.violations), root),
              file=sys.stderr)
        return 1
    print('check_layers: %d files in %d layers keep to layers.txt'
          % (checker.files, len(checker.layers)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
