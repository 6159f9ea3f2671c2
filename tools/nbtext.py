"""Edit notebooks as plain text from the terminal.

`python tools/nbtext.py to-text nbs/utils.ipynb > /tmp/utils.txt` writes one cell after another, each
opened by a marker line: `# %%` for code, `# %% [markdown]` for markdown, followed by the cell's id
(`id=...`) so that writing back keeps ids and exported modules do not churn; new cells may omit it.
`python tools/nbtext.py to-nb /tmp/utils.txt nbs/utils.ipynb` writes the notebook back (outputs dropped).
Afterwards run `nbdev-export && nbdev-clean`.
"""
import re, sys
from fastcore.nbio import new_nb, mk_cell, read_nb, write_nb

MARK = re.compile(r'^# %%( \[markdown\])?(?: id=(\S+))?\s*$')
META = {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}}

def to_text(nb_path):
    "The cells of `nb_path` as marker-separated text."
    out = []
    for c in read_nb(nb_path).cells:
        out.append(('# %% [markdown]' if c.cell_type == 'markdown' else '# %%') + (f' id={c.id}' if c.get('id') else ''))
        out.append(c.source.rstrip('\n'))
        out.append('')
    return '\n'.join(out)

def parse_cells(text):
    "(kind, source, id) triples from marker-separated text; id is None for a cell written without one."
    cells, kind, cid, buf = [], None, None, []
    for line in text.splitlines():
        if m := MARK.match(line):
            if kind: cells.append((kind, '\n'.join(buf).strip('\n'), cid))
            kind, cid, buf = ('markdown' if m[1] else 'code'), m[2], []
        else: buf.append(line)
    if kind: cells.append((kind, '\n'.join(buf).strip('\n'), cid))
    return cells

def to_nb(text_path, nb_path):
    "Write the notebook `nb_path` from the text file `text_path`."
    cells = []
    for kind, src, cid in parse_cells(open(text_path, encoding='utf-8').read()):
        cell = mk_cell(src, kind)
        if cid: cell['id'] = cid
        cells.append(cell)
    write_nb(new_nb(cells, meta=META), nb_path)

if __name__ == '__main__':
    cmd, *args = sys.argv[1:]
    if cmd == 'to-text': sys.stdout.write(to_text(*args))
    elif cmd == 'to-nb': to_nb(*args)
    else: sys.exit(__doc__)
