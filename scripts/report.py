#!/usr/bin/env python3
"""Judge one or more guest runs of `make check`, and count every case.

Each run is a directory written by scripts/check.sh:
  console.log  the kernel console (ttyS0): KUnit's KTAP, and any splat
  tests.log    the kselftests (ttyS1), framed by guest/runone
  qemu.rc      QEMU's exit status, written by scripts/qemu.sh
  list         the kselftest list the guest ran (guest/tests.list format)

A case is a KUnit or kselftest result line without subtests.  Besides the
cases, a run is checked as a whole, and each check that fails adds one
failure (never a pass):
  - every expected case is there (guest/<base>/inventory), no unknown case is;
  - every skip is listed in guest/<base>/expected-skips; the series' own programs
    may not skip at all;
  - every KTAP/TAP plan is met, every program ran at least one case;
  - the guest's setup succeeded, the run completed and the guest powered
    off cleanly; the kernel is not tainted beyond the expected flags;
  - the console shows no splat (BUG, WARN, oops, KASAN, lockdep, ...).

The last line is "N passed, N failed, N skipped", with ", N xfailed"
added when an expected failure was reported; the exit status is 1 on any
failure.  --write-inventory rewrites guest/inventory from the runs
instead.
"""
import argparse
import collections
import os
import re
import sys

# The series' own programs: a skip in these is always a failure.
OWN_PROGRAMS = {'droppable_semantics', 'process_madv_vector', 'refpage'}

# The failures after which a "retry=1" program's rerun may stand in for its
# first run: the "Bail out!" reasons of known flakes, and nothing else.  A
# first run that ended otherwise (a signal, a timeout, data corruption, a
# failed case) fails the run whatever the rerun does.
RETRY_REASONS = {
    # 6.12's copy bails out when a THP is not allocated or not split at
    # once (see guest/6.12/tests.list); "byte corrupted" is not among them.
    'split_huge_page_test': re.compile(
        r'Bail out! (No THP is allocated|Some THPs are missing during mremap'
        r'|Still AnonHugePages not split|Still \d+ THPs not split)$'),
}

# Programs whose TAP repeats a result number, and why: the repeated result
# is dropped there, and is a failure anywhere else.
TAP_REPEATS_OK = {
    # test_prctl_fork_exec()'s child execv()s the program with an argv that
    # has no NULL terminator (upstream 6.12); when that fails, the child
    # goes on with the next test and prints its "ok 8" before the parent
    # prints its own.  The last result of a number is the parent's.
    'ksm_functional_tests': 'test_prctl_fork_exec(): the child\'s result comes first',
}

# Case names that carry a measured or random number, and the pattern that
# replaces it, so that the inventory names the same case in every run.
VARIABLE_NAMES = {
    'pagemap_ioctl': [
        # random sizes (rand() seeded by time)
        (re.compile(r'(pages in parts) \d+ \d+ \d+'), r'\1 N N N'),
        # what the racing thread happened to fault
        (re.compile(r'Extra pages \d+ \([\d.]+%\), extra thread faults \d+'),
         'Extra pages N (N%), extra thread faults N'),
    ],
    'mrelease_test': [
        # it doubles the child's size until the reap beats the child's exit
        (re.compile(r'Success reaping a child with \d+MB of memory allocations'),
         'Success reaping a child with N MB of memory allocations'),
    ],
}

SKIP_TITLE = re.compile(r'^(.+): SKIP \1$')

# Programs that print no TAP, and how their cases are read.
FORMATS = {'uffd-unit-tests': 'uffd', 'hugetlb-madvise': 'exit',
           # TAP on 7.3; on 6.12 they print nothing and say it by exit status
           'hugetlb_fault_after_madv': 'tap_or_exit', 'hugetlb_madv_vs_map': 'tap_or_exit'}

RESULT = re.compile(r'^(\s*)(not ok|ok) (\d+)\b\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(.*))?$')
PLAN = re.compile(r'^(\s*)1\.\.(\d+)\b')
RUN = re.compile(r'^\s*# \[RUN\] (.*)$')
SPLAT = re.compile(
    r'(BUG:|WARNING:|kernel BUG at|Oops|general protection fault|'
    r'\bBUG [\w.:-]+ \(|'                       # SLUB: "BUG kmalloc-64 (Not tainted): ..."
    r'KASAN:|UBSAN:|KFENCE:|'
    r'kmemleak:.*(new suspected|disabled|Cannot allocate)|'
    r'possible circular locking|possible recursive locking|'
    r'inconsistent lock state|suspicious RCU usage|'
    r'INFO: lockdep is turned off|INFO: trying to register non-static key|'
    r'list_(add|del) corruption|'
    r'printk messages dropped|'
    r'Kernel panic|Bad rss-counter|Bad page state|Bad page map|'
    r': bad (pte|pmd|pud|p4d|pgd)\b|Bad swap (file|offset) entry|'
    r'soft lockup|hard LOCKUP|blocked for more than|workqueue lockup|'
    r'rcu_sched self-detected|rcu: INFO:|'
    r'\[ cut here \]|\[ end trace)')
# Console text after the kernel timestamp.
STAMP = re.compile(r'^\[\s*\d+\.\d+\]\s?')

# /proc/sys/kernel/tainted bits (Documentation/admin-guide/tainted-kernels.rst)
TAINT_FLAGS = 'PFSRMBUDAWCIOELKXTN'
TAINT_EXPECTED = {'N'}  # TAINT_TEST: KUnit ran


def taint_letters(value):
    return {TAINT_FLAGS[b] if b < len(TAINT_FLAGS) else f'bit{b}'
            for b in range(32) if value >> b & 1}


class Level:
    def __init__(self, indent):
        self.indent = indent
        self.plan = None
        self.nodes = []
        self.numbers = {}  # result number: (status, index in nodes)


def tap_tree(lines, stop_when_planned=False, repeats_ok=False):
    """Parse (K)TAP, nested by indentation.

    Returns (leaves, problems, complete): leaves are (status, name) with
    status pass, fail, skip or xfail, and the names of the parents joined
    with '.'; problems are plan mismatches; complete says whether the top
    level's plan was met.
    """
    stack = [Level(0)]
    problems = []
    # kselftest.h programs (cow, gup_longterm, ...) name a case by a
    # "# [RUN] what" line before its result, whose own text repeats.
    context = None

    def close(level, parent):
        if level.plan is not None and level.plan != len(level.nodes):
            problems.append(f'{parent or "top level"}: {len(level.nodes)} of '
                            f'{level.plan} planned results')

    for raw in lines:
        line = raw.expandtabs(8)
        p = PLAN.match(line)
        m = RESULT.match(line) if not p else None
        if not p and not m:
            r = RUN.match(line)
            if r:
                context = r.group(1).strip()
            continue
        indent = len((p or m).group(1))
        popped = []
        while len(stack) > 1 and stack[-1].indent > indent:
            popped.append(stack.pop())
        if stack[-1].indent < indent:
            stack.append(Level(indent))
        level = stack[-1]
        if p:
            # A plan at a new, deeper indent starts that level; at an
            # existing one it is that level's plan.
            for lv in popped:
                close(lv, None)
            level.plan = int(p.group(2))
            continue
        ok, num, name, directive = m.group(2) == 'ok', m.group(3), m.group(4), (m.group(5) or '').strip()
        word = directive.split(' ', 1)[0].upper()
        if word == 'SKIP':
            status = 'skip' if ok else 'fail'
        elif word == 'XFAIL':
            status = 'xfail' if ok else 'fail'
        else:
            status = 'pass' if ok else 'fail'
        if num in level.numbers:
            if not repeats_ok or not ok or level.numbers[num][0] != 'pass':
                problems.append(f'result number {num} repeated ("{line.strip()}")')
            if not repeats_ok:
                continue
            # Keep the last result of that number (see TAP_REPEATS_OK).
            level.nodes.pop(level.numbers[num][1])
            level.numbers = {k: (st, i - (i > level.numbers[num][1]))
                             for k, (st, i) in level.numbers.items() if k != num}
        if not name:
            name = directive or num
        if context:
            name, context = f'{context}: {name}', None
        leaves = []
        for lv in reversed(popped):
            close(lv, name)
            for node in lv.nodes:
                leaves.extend(node)
        if popped:
            leaves = [(st, f'{name}.{n}') for st, n in leaves]
            if status == 'fail' and not any(st == 'fail' for st, _ in leaves):
                leaves.append(('fail', f'{name} (the suite failed with no failing case)'))
        else:
            leaves = [(status, name)]
        level.numbers[num] = (status, len(level.nodes))
        level.nodes.append(leaves)
        if stop_when_planned and len(stack) == 1 and level.plan is not None \
                and len(level.nodes) >= level.plan:
            break
    # Whatever is still open at the end.
    while len(stack) > 1:
        close(stack.pop(), None)
    root = stack[0]
    complete = root.plan is not None and len(root.nodes) >= root.plan
    if root.plan is not None and len(root.nodes) != root.plan:
        problems.append(f'top level: {len(root.nodes)} of {root.plan} planned results')
    return [leaf for node in root.nodes for leaf in node], problems, complete


UFFD_VERDICT = re.compile(r'(done|skipped \[reason: .*\]|failed \[reason: .*)$')


def uffd_cases(lines):
    """uffd-unit-tests: "Testing NAME... " then its verdict at the end of a
    line: "done", "skipped [reason: ...]" or "failed [reason: ...]".  A
    failure anywhere in a case's output fails it; a case with no verdict
    before the next one fails too."""
    cases = []
    name = None
    verdict = None

    def close():
        if name is not None:
            cases.append((verdict or 'fail', name if verdict else name + ' (no verdict)'))

    for line in lines:
        m = re.match(r'Testing (.+?)\.\.\. ?(.*)$', line)
        if m:
            close()
            name, verdict, line = m.group(1), None, m.group(2)
        if name is None:
            continue
        v = UFFD_VERDICT.search(line)
        if v:
            st = {'d': 'pass', 's': 'skip', 'f': 'fail'}[v.group(1)[0]]
            if verdict != 'fail':
                verdict = st
    close()
    problems = []
    tot = None
    for line in lines:
        tot = re.search(r'Userfaults unit tests: pass=(\d+), skip=(\d+), fail=(\d+) \(total=(\d+)\)',
                        line) or tot
    if not tot:
        problems.append('no "Userfaults unit tests:" summary')
    else:
        got = collections.Counter(st for st, _ in cases)
        want = dict(zip(('pass', 'skip', 'fail'), map(int, tot.groups()[:3])))
        if any(got[k] != v for k, v in want.items()) or int(tot.group(4)) != len(cases):
            problems.append(f'read {dict(got)} of {len(cases)} cases, the summary says '
                            f'{want} of {tot.group(4)}')
    return cases, problems


def kselftest_blocks(lines):
    """Split tests.log into programs.  Yields dicts with the block's data."""
    cur = None
    info = {'begun': False, 'done': False, 'setup': [], 'taint': None,
            'listed': None, 'debug_locks': None,
            'poweroff': False, 'kmemleak': [], 'timeouts': [], 'errors': [], 'retried': []}
    blocks = []
    in_kmemleak = False
    for raw in lines:
        l = raw.rstrip('\r\n')
        if l.startswith('| '):
            if cur is not None:
                cur['lines'].append(l[2:])
            elif in_kmemleak:
                info['kmemleak'].append(l[2:])
            continue
        if l == '|':
            if cur is not None:
                cur['lines'].append('')
            continue
        if l.startswith('### BEGIN '):
            if cur is not None:
                info['errors'].append(f'{cur["name"]}: no END marker before the next BEGIN')
            cur = {'name': l[10:].strip(), 'lines': [], 'rc': None, 'secs': None}
            continue
        if l.startswith('### END '):
            name = l[8:].split()[0] if l[8:].split() else ''
            if cur is None or name != cur['name']:
                info['errors'].append(f'END for {name} without its BEGIN')
                cur = None
                continue
            m = re.search(r'rc=(-?\d+)', l)
            cur['rc'] = int(m.group(1)) if m else 255
            m = re.search(r'secs=(\d+)', l)
            cur['secs'] = int(m.group(1)) if m else None
            blocks.append(cur)
            cur = None
            continue
        if l.startswith('### RETRY '):
            # run-tests.sh ran the program again after a failed first run
            # (a "retry=1" program): the first block is judged apart.
            name = l[10:].split()[0].rstrip(':') if l[10:].split() else ''
            first = [i for i, b in enumerate(blocks) if b['name'] == name]
            if not first:
                info['errors'].append(f'RETRY for {name} without a first run')
            else:
                info['retried'].append(blocks.pop(first[-1]))
        elif l.startswith('### TIMEOUT '):
            info['timeouts'].append(l[4:])
        elif l.startswith('### MMRUST TESTS BEGIN'):
            info['begun'] = True
        elif l.startswith('### LIST '):
            info['listed'] = int(l.split()[2]) if l.split()[2].isdigit() else -1
        elif l.startswith('### DEBUG_LOCKS '):
            info['debug_locks'] = l.split()[2] if len(l.split()) > 2 else ''
        elif l.startswith('### MMRUST TESTS DONE'):
            info['done'] = True
        elif l.startswith('### MMRUST POWEROFF'):
            info['poweroff'] = True
        elif l.startswith('### SETUP FAIL '):
            info['setup'].append(l[15:])
        elif l.startswith('### TAINTED '):
            try:
                info['taint'] = int(l.split()[2])
            except (IndexError, ValueError):
                info['errors'].append(f'unreadable taint line: {l}')
        elif l.startswith('### KMEMLEAK'):
            in_kmemleak = True
        elif cur is not None and l.strip():
            # Only the framing is unprefixed: anything else inside a block
            # is the runner's own trouble.
            cur['lines'].append(l)
    if cur is not None:
        cur['rc'] = None
        blocks.append(cur)
    return blocks, info


def judge_program(b):
    """Cases and problems of one program's block."""
    name, rc = b['name'], b['rc']
    fmt = FORMATS.get(name, 'tap')
    # uffd-unit-tests prints KTAP since 6.16 (7.3), its own format before.
    if fmt in ('uffd', 'tap_or_exit') and any(PLAN.match(l) for l in b['lines']):
        fmt = 'tap'
    elif fmt == 'tap_or_exit':
        fmt = 'exit'
    problems = []
    if fmt == 'uffd':
        cases, problems = uffd_cases(b['lines'])
    elif fmt == 'exit':
        st = {0: 'pass', 4: 'skip'}.get(rc, 'fail')
        cases = [(st, name)] if rc is not None else []
    else:
        cases, problems, _ = tap_tree(b['lines'], repeats_ok=name in TAP_REPEATS_OK)
        if not any(PLAN.match(l) for l in b['lines']) and cases:
            problems.append('printed no TAP plan')
    if rc is None:
        problems.append('did not finish (the guest timed out or crashed)')
    elif not cases:
        problems.append(f'ran no test case (exit {rc})')
    elif rc not in (0, 4) and not any(st == 'fail' for st, _ in cases):
        # ksft_exit_fail_msg() says why on a "Bail out!" line: keep it.
        why = [l.strip() for l in b['lines'] if 'Bail out!' in l]
        problems.append(f'exited {rc} with no failing case'
                        + (f' ({why[-1]})' if why else ''))
    return cases, problems


def read_list(path):
    progs = []
    if os.path.exists(path):
        with open(path) as f:
            lines = f.readlines()
        for line in lines:
            w = line.split()
            if w and not w[0].startswith('#'):
                progs.append((w[0], int(w[1]) if len(w) > 1 and w[1].isdigit() else 0))
    return progs


def read_retries(path):
    """The programs whose list line says "retry=1": one rerun after a failure."""
    progs = set()
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                w = line.split()
                if w and not w[0].startswith('#') and 'retry=1' in w[2:]:
                    progs.add(w[0])
    return progs


def read_table(path):
    """Lines "program<TAB>case[<TAB># reason]" as a Counter of (program, case)."""
    c = collections.Counter()
    reasons = {}
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            lines = f.readlines()
        for line in lines:
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            parts = line.split('\t')
            key = (parts[0], parts[1] if len(parts) > 1 else '')
            c[key] += 1
            reasons[key] = parts[2] if len(parts) > 2 else ''
    return c, reasons


def skip_pattern_ok(skips_ok, program, name):
    """An expected-skips line whose case is "re:REGEX" lets every case of
    the program whose whole name matches REGEX skip, however often: for an
    upstream test whose skips depend on timing (cow's swapped-out cases,
    when MADV_PAGEOUT finds the page still in another CPU's LRU batch)."""
    return any(p == program and c.startswith('re:') and re.fullmatch(c[3:], name)
               for p, c in skips_ok)


def inventory_count(inventory, program):
    return sum(k for (p, _), k in inventory.items() if p == program)


def judge_run(label, d, inventory, skips_ok, expect_kunit=True, required=None):
    """Returns (cases, failures): cases are (status, program, case, note)."""
    cases, fails = [], []

    def fail(what):
        fails.append(f'{label}: {what}')

    def read(name):
        p = os.path.join(d, name)
        if not os.path.exists(p):
            return None
        with open(p, errors='replace') as f:
            return f.read().splitlines()

    console, tests, qrc = read('console.log'), read('tests.log'), read('qemu.rc')
    listed = read_list(os.path.join(d, 'list'))
    if console is None or tests is None:
        fail('the guest produced no log (QEMU did not start?)')
        return cases, fails
    rc = int(qrc[0]) if qrc and qrc[0].strip().lstrip('-').isdigit() else None

    # KUnit, from the console: the first KTAP block, to its top-level plan.
    body = [STAMP.sub('', l) for l in console]
    if expect_kunit:
        start = next((i for i, l in enumerate(body) if l.startswith('KTAP version')), None)
        if start is None:
            fail('kunit: no KTAP on the console')
        else:
            leaves, problems, complete = tap_tree(body[start:], stop_when_planned=True)
            cases += [(st, 'kunit', n) for st, n in leaves]
            for p in problems:
                fail(f'kunit: {p}')
            if not complete and not problems:
                fail('kunit: the KTAP output ended before its plan was met')

    blocks, info = kselftest_blocks(tests)
    if rc == 125:
        fail('the guest did not reach its first test before the boot deadline')
    elif rc not in (0, None):
        fail(f'QEMU exited {rc}' + (' (killed at the guest timeout)' if rc in (124, 137) else ''))
    elif rc is None:
        fail('QEMU exit status missing')
    if not info['poweroff']:
        fail('the guest did not power off cleanly (kernel panic, triple fault or timeout)')
    if not info['begun']:
        fail('the kselftest run never started')
    elif not info['done']:
        fail('the kselftest run did not complete')
    for s in info['setup']:
        fail(f'guest setup failed: {s}')
    if info['begun'] and info['listed'] != len(listed):
        fail(f'the guest ran a list of {info["listed"]} programs, not the {len(listed)} of {d}/list')
    if info['debug_locks'] not in (None, '1'):
        fail(f'lockdep turned itself off (debug_locks {info["debug_locks"]}): it reported something')
    for e in info['errors']:
        fail(f'test log: {e}')
    for t in info['timeouts']:
        fail(t)
    if info['done']:
        if info['taint'] is None:
            fail('the taint line is missing')
        else:
            bad = taint_letters(info['taint']) - TAINT_EXPECTED
            if bad:
                fail(f'the kernel is tainted: {info["taint"]} '
                     f'(flags {"".join(sorted(bad))}; expected only {"".join(sorted(TAINT_EXPECTED))})')
    if any(l.strip() for l in info['kmemleak']):
        fail('kmemleak reported leaks: ' + ' / '.join(l.strip() for l in info['kmemleak'][:3]))

    seen = set()
    for b in blocks:
        seen.add(b['name'])
        pcases, problems = judge_program(b)
        for rx, repl in VARIABLE_NAMES.get(b['name'], []):
            pcases = [(st, rx.sub(repl, n)) for st, n in pcases]
        # A kselftest.h case that skips with its own title as the reason
        # ("T: SKIP T") is the same case as when it passes ("T: T"): one
        # name in the inventory, and guest/<base>/expected-skips says
        # whether it may skip.
        pcases = [(st, SKIP_TITLE.sub(r'\1: \1', n)) for st, n in pcases]
        cases += [(st, b['name'], n) for st, n in pcases]
        for p in problems:
            fail(f'{b["name"]}: {p}')
    for name, _ in listed:
        if name not in seen and info['done']:
            fail(f'{name}: listed but did not run')
    # A failed first run of a "retry=1" program is no failure when its rerun
    # (judged above like any run) passes, but it is printed and counted.
    reruns = []
    retries = read_retries(os.path.join(d, 'list'))
    for b in info['retried']:
        if b['name'] not in retries or b['name'] in OWN_PROGRAMS:
            fail(f'{b["name"]}: was run twice, but its list line does not say retry=1'
                 + (" (and the series' own programs may never say it)"
                    if b['name'] in OWN_PROGRAMS else ''))
            continue
        pcases, problems = judge_program(b)
        why = problems + [n for st, n in pcases if st == 'fail'] or [f'exit {b["rc"]}']
        bail = [l.strip() for l in b['lines'] if 'Bail out!' in l]
        rx = RETRY_REASONS.get(b['name'])
        if (b['rc'] != 1 or not bail or rx is None or not rx.search(bail[-1])
                or any(st == 'fail' for st, _ in pcases)):
            fail(f'{b["name"]}: the first run failed in a way that a rerun may not excuse '
                 f'({"; ".join(why[:3])})')
            continue
        reruns.append(('rerun', b['name'], 'first run failed, then the rerun was judged',
                      f' ({"; ".join(why[:3])})'))

    # Inventory: for KUnit and every program that this run selected.  A
    # full run must select every program the inventory requires of it.
    selected = {n for n, _ in listed} | ({'kunit'} if expect_kunit else set())
    for p in sorted((required or set()) - selected):
        fail(f'{p}: in the inventory, but not in the test list: {inventory_count(inventory, p)} '
             f'cases did not run')
        selected.add(p)
    got = collections.Counter((p, n) for _, p, n in cases)
    want = collections.Counter({k: v for k, v in inventory.items() if k[0] in selected})
    for (p, n), k in sorted((want - got).items()):
        if p == 'kunit' or (p in seen and p in {q for q, _ in listed}):
            fail(f'{p}: missing case "{n}"' + (f' (x{k})' if k > 1 else ''))
    for (p, n), k in sorted((got - want).items()):
        fail(f'{p}: case "{n}" is not in guest/inventory' + (f' (x{k})' if k > 1 else ''))
    for p in sorted(selected - {'kunit'} - {q for q, _ in inventory}):
        fail(f'{p}: no case of it is in guest/inventory')

    # Skips must be expected; the series' own programs may not skip.
    judged = []
    skipped = collections.Counter()
    for st, p, n in cases:
        note = ''
        if st == 'skip' and p in OWN_PROGRAMS:
            st, note = 'fail', " (skipped: the series' own tests may not skip)"
        elif st == 'xfail' and p in OWN_PROGRAMS:
            st, note = 'fail', " (XFAIL: the series' own tests may not expect failures)"
        elif st == 'skip':
            skipped[(p, n)] += 1
            if skipped[(p, n)] > skips_ok[(p, n)] and skip_pattern_ok(skips_ok, p, n):
                pass
            elif skipped[(p, n)] > skips_ok[(p, n)]:
                st, note = 'fail', (' (skipped, and not in guest/expected-skips)' if not skips_ok[(p, n)]
                                    else ' (skipped more often than guest/expected-skips says)')
        judged.append((st, p, n, note))
    judged += reruns

    # The console: splats anywhere, KUnit's and the tests' time alike.
    splats = [l for l in console if SPLAT.search(STAMP.sub('', l))]
    if splats:
        fail('kernel console splat:\n' + '\n'.join('    ' + l for l in splats[:40]) +
             (f'\n    ... and {len(splats) - 40} more lines' if len(splats) > 40 else ''))
    return judged, fails


def base_of(label):
    return label[:-len('-debug')] if label.endswith('-debug') else label


def write_inventory(path, inventory, per_run, all_fails):
    inv_only = ('is not in guest/inventory', 'missing case', 'no case of it is in')
    real = [f for f in all_fails if not any(t in f for t in inv_only)]
    real += [f'{p}: {n}{note}' for cases in per_run.values()
             for st, p, n, note in cases if st == 'fail']
    if real:
        print(f'inventory: refused for {path}: the runs failed other than by their inventory:')
        for f in real[:20]:
            print(f'  {f}')
        return 1
    keep = collections.Counter(inventory)
    ran = {p for cases in per_run.values() for st, p, _, _ in cases if st != 'rerun'}
    # Every run must agree on the programs they share; take the first.
    new = collections.Counter()
    for cases in per_run.values():
        c = collections.Counter((p, n) for st, p, n, _ in cases if st != 'rerun')
        for p in {p for p, _ in c}:
            if not any(q == p for q, _ in new):
                new.update({k: v for k, v in c.items() if k[0] == p})
    keep = collections.Counter({k: v for k, v in keep.items() if k[0] not in ran})
    keep.update(new)
    with open(path, 'w', encoding='utf-8') as f:
        f.write('# The cases make check expects, one per line: program<TAB>case.\n'
                '# "kunit" is KUnit (suite.case).  Written by make inventory from a\n'
                '# green run; a case added or removed is a one-line change here.\n')
        for (p, n), k in sorted(keep.items()):
            for _ in range(k):
                f.write(f'{p}\t{n}\n')
    print(f'inventory: {sum(keep.values())} cases in {path}')
    return 0


def main(argv=None):
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('runs', nargs='+', metavar='LABEL=DIR',
                    help='a run directory, named by its kernel (e.g. 7.3=build/run/7.3); '
                    'the label without "-debug" is the base')
    ap.add_argument('--guest-dir', default=os.path.join(top, 'guest'),
                    help='where each base\'s inventory, expected-skips and debug-programs are '
                    '(GUEST_DIR/<base>/...)')
    ap.add_argument('--subset', action='store_true',
                    help='the runs used TESTS_LIST: check only the programs they selected')
    ap.add_argument('--write-inventory', action='store_true',
                    help='write the cases of the runs as their base\'s inventory, for the programs they ran')
    args = ap.parse_args(argv)

    tables = {}
    for spec in args.runs:
        base = base_of(spec.partition('=')[0])
        if base in tables:
            continue
        d = os.path.join(args.guest_dir, base)
        paths = [os.path.join(d, n) for n in ('inventory', 'expected-skips', 'debug-programs')]
        for q in paths:
            if not os.path.exists(q):
                print(f'error: {q} is missing', file=sys.stderr)
                return 2
        inventory, _ = read_table(paths[0])
        skips_ok, _ = read_table(paths[1])
        for p, n in skips_ok:
            if p in OWN_PROGRAMS:
                print(f'error: {paths[1]}: {p} is one of the series\' own programs, '
                      f'which may not skip', file=sys.stderr)
                return 2
        with open(paths[2]) as f:
            debug_programs = {w for line in f if not line.startswith('#') for w in line.split()[:1]}
        tables[base] = (paths[0], inventory, skips_ok, debug_programs)

    all_cases, all_fails = [], []
    per_base = collections.defaultdict(dict)
    fails_of = collections.defaultdict(list)
    for spec in args.runs:
        label, _, d = spec.partition('=')
        base = base_of(label)
        _, inventory, skips_ok, debug_programs = tables[base]
        required = None
        if not args.subset and not args.write_inventory:
            required = debug_programs if label.endswith('-debug') else \
                {p for p, _ in inventory if p != 'kunit'}
        cases, fails = judge_run(label, d, inventory, skips_ok, required=required)
        per_base[base][label] = cases
        all_cases += [(st, f'{label}: {p}: {n}{note}') for st, p, n, note in cases]
        all_fails += fails
        fails_of[base] += fails

    if args.write_inventory:
        rc = 0
        for base, per_run in per_base.items():
            rc |= write_inventory(tables[base][0], tables[base][1], per_run, fails_of[base])
        return rc

    for st, name in all_cases:
        if st not in ('pass', 'xfail'):
            print(f'{st.upper()}: {name}')
        elif st == 'xfail':
            print(f'XFAIL: {name}')
    for f in all_fails:
        print(f'FAIL: {f}')
    n = collections.Counter(st for st, _ in all_cases)
    failed = n['fail'] + len(all_fails)
    line = f"{n['pass']} passed, {failed} failed, {n['skip']} skipped"
    if n['xfail']:
        line += f", {n['xfail']} xfailed"
    if n['rerun']:
        line += f", {n['rerun']} rerun"
    print(line)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
