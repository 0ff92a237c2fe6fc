// matx_nb side panel: lists the current notebook kernel's %%matx cells (pushed
// by kernel_ext/panel.py over the comm target "matx_nb.panel"): one entry per
// cell, with the build's phase and its elapsed time ticking here, type-check
// failures with their lines; a click goes to the cell. It adds the "Export
// pipeline" command, which asks the kernel to trace and save a pipeline, and the
// renderer of %%matx outputs (outputs.ts): live widgets, or their static copy.
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, InputDialog, showDialog } from '@jupyterlab/apputils';
import type { CodeCell } from '@jupyterlab/cells';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Kernel } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import { MatxOutputs, registerOutputRenderer } from './outputs';

const TARGET = 'matx_nb.panel';
const EXPORT = 'matx-nb:export-pipeline';
// Glyphs every UI font has (DejaVu, Noto Sans...): no emoji font needed.
const SPIN = ['◐', '◓', '◑', '◒'];
const FAILED = '✗';

interface IDiagnostic {
  where: string; // "line 3" (this cell) or "cell [2] line 3"
  line: number;
  col: number;
  message: string;
  hint: string;
  here: boolean;
}

interface IBuild {
  key: string;
  cell_id: string;
  cell: string;
  name: string;
  state: string;
  status: string;
  done: boolean;
  phase: string;
  phase_words: string;
  phase_since: number; // kernel clock, epoch seconds
  started: number;
  seconds: number | null;
  objects: { name: string; line: number; kind: string; cache_hit: boolean; failed: boolean; phase: string }[];
  examples: { [fn: string]: string }; // what Export offers: FUNC -> example arguments
  init: { [fn: string]: string }; // a class's FUNC -> its constructor's arguments
  diagnostics: IDiagnostic[];
}

export type JumpTo = (b: IBuild, d?: IDiagnostic) => void;

class MatxPanel extends Widget {
  builds: IBuild[] = [];
  note = 'Open a notebook and run %load_ext matx_nb.';
  onExport: () => void = () => undefined;
  onJump: JumpTo = () => undefined;
  private skew = 0; // browser clock - kernel clock, seconds
  private timer = 0;

  constructor() {
    super();
    this.id = 'matx-nb-panel';
    this.title.label = 'matx';
    this.title.caption = 'matx_nb: compiled cells';
    this.addClass('matx-nb-panel');
    this.render();
  }

  update_(builds: IBuild[] | null, note = '', kernelNow?: number): void {
    if (builds) {
      this.builds = builds;
    }
    if (kernelNow) {
      this.skew = Date.now() / 1000 - kernelNow;
    }
    this.note = note;
    this.render();
  }

  dispose(): void {
    window.clearInterval(this.timer);
    super.dispose();
  }

  /** "compiling fib · g++ 3 s": the running phase, ticking here between the kernel's messages. */
  private progress(b: IBuild): string {
    const now = Date.now() / 1000 - this.skew;
    const phase = Math.max(0, now - b.phase_since);
    const spin = SPIN[Math.floor((now - b.started) * 2) % SPIN.length];
    if (b.state === 'measuring') {
      return `${spin} ${b.name} compiled · checking and timing ${phase.toFixed(0)} s`;
    }
    return `${spin} compiling ${b.name} · ${b.phase_words} ${phase.toFixed(0)} s`;
  }

  private tick(): void {
    let running = false;
    this.node.querySelectorAll<HTMLElement>('.matx-nb-progress').forEach(el => {
      const b = this.builds.find(x => x.key === el.dataset.key);
      if (b && !b.done) {
        el.textContent = this.progress(b);
        running = true;
      }
    });
    if (!running) {
      window.clearInterval(this.timer);
      this.timer = 0;
    }
  }

  private render(): void {
    const node = this.node;
    node.textContent = '';
    const h = document.createElement('h3');
    h.textContent = 'matx_nb: compiled cells';
    node.appendChild(h);
    const button = document.createElement('button');
    button.className = 'jp-mod-styled jp-mod-accept';
    button.textContent = 'Export pipeline…';
    button.onclick = () => this.onExport();
    node.appendChild(button);
    if (this.note) {
      const p = document.createElement('p');
      p.className = 'matx-nb-muted';
      p.textContent = this.note;
      node.appendChild(p);
    }
    for (const b of [...this.builds].reverse()) {
      node.appendChild(this.entry(b));
    }
    if (this.builds.some(b => !b.done) && !this.timer) {
      this.timer = window.setInterval(() => this.tick(), 500);
    }
  }

  private entry(b: IBuild): HTMLElement {
    const div = document.createElement('div');
    const phase = b.done ? b.state : 'running';
    div.className = `matx-nb-build matx-nb-state-${b.state} matx-nb-phase-${phase}`;
    div.dataset.key = b.key;
    div.dataset.cellId = b.cell_id;
    div.title = `Go to ${b.cell}`;
    div.tabIndex = 0;
    div.onclick = () => this.onJump(b);
    div.onkeydown = e => {
      if (e.key === 'Enter') {
        this.onJump(b);
      }
    };
    const title = document.createElement('div');
    title.className = 'matx-nb-title';
    const cell = document.createElement('span');
    cell.className = 'matx-nb-cell';
    cell.textContent = `${b.cell}: `;
    title.appendChild(cell);
    const text = document.createElement('span');
    if (b.done) {
      text.textContent = b.status;
    } else {
      text.className = 'matx-nb-progress';
      text.dataset.key = b.key;
      text.textContent = this.progress(b);
    }
    title.appendChild(text);
    div.appendChild(title);
    if (b.objects.length) {
      const objs = document.createElement('div');
      objs.className = 'matx-nb-muted';
      objs.textContent = b.objects
        .map(o => `${o.kind} ${o.name} (line ${o.line})${o.failed ? ' failed' : o.cache_hit ? ' cached' : ''}`)
        .join(', ');
      div.appendChild(objs);
    }
    for (const d of b.diagnostics ?? []) {
      const row = document.createElement('div');
      row.className = 'matx-nb-diag';
      row.title = d.here ? `Go to ${d.where} of ${b.cell}` : `Go to ${b.cell}`;
      row.textContent = `${FAILED} ${d.where}, col ${d.col}: ${d.message}`;
      row.onclick = e => {
        e.stopPropagation();
        this.onJump(b, d);
      };
      div.appendChild(row);
    }
    return div;
  }
}

class Connection {
  comm: Kernel.IComm | null = null;
  private requests = new Map<number, (html: string) => void>();
  private next = 1;

  constructor(private panel: MatxPanel) {}

  connect(kernel: Kernel.IKernelConnection | null | undefined): void {
    if (this.comm && !this.comm.isDisposed) {
      this.comm.dispose();
    }
    this.comm = null;
    if (!kernel) {
      this.panel.update_([], 'No kernel.');
      return;
    }
    const comm = kernel.createComm(TARGET);
    comm.onMsg = msg => {
      const data = msg.content.data as any;
      if (data.type === 'builds') {
        this.panel.update_(data.builds as IBuild[], '', data.now as number);
      } else if (data.type === 'exported') {
        const done = this.requests.get(data.request);
        this.requests.delete(data.request);
        done?.(data.html as string);
      }
    };
    comm.onClose = () => {
      this.comm = null;
      this.panel.update_([], 'Run %load_ext matx_nb in this notebook.');
    };
    this.comm = comm;
    comm.open({});
  }

  export(fn: string, args: string, out: string, init: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (!this.comm) {
        reject(new Error('the kernel has not loaded matx_nb'));
        return;
      }
      const request = this.next++;
      this.requests.set(request, resolve);
      this.comm.send({ action: 'export', function: fn, args, out, init, request });
    });
  }
}

/** Goes to the cell of a panel entry (by the cell id JupyterLab sent with the
 * execute request, else by its execution count), and to a diagnostic's line. */
async function jumpTo(app: JupyterFrontEnd, tracker: INotebookTracker, panel: MatxPanel,
                      b: IBuild, d?: IDiagnostic): Promise<void> {
  const nbPanel = tracker.currentWidget;
  if (!nbPanel) {
    return;
  }
  const nb = nbPanel.content;
  let index = b.cell_id ? nb.widgets.findIndex(c => c.model.id === b.cell_id) : -1;
  const count = /\[(\d+)\]/.exec(b.cell);
  if (index < 0 && count) {
    index = nb.widgets.findIndex(c => c.model.type === 'code' && (c as CodeCell).model.executionCount === +count[1]);
  }
  if (index < 0) {
    panel.update_(null, `${b.cell} is no longer in this notebook.`);
    return;
  }
  app.shell.activateById(nbPanel.id);
  nb.deselectAll();
  nb.activeCellIndex = index;
  const cell = nb.widgets[index];
  await nb.scrollToCell(cell, 'center');
  if (d && d.here && cell.editor) {
    nb.mode = 'edit';
    cell.editor.setCursorPosition({ line: Math.max(d.line - 1, 0), column: Math.max(d.col - 1, 0) });
    cell.editor.focus();
  } else {
    nb.mode = 'command';
    nb.node.focus();
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'matx-nb-labextension:plugin',
  description: 'matx_nb side panel, Export pipeline command and %%matx output renderer',
  autoStart: true,
  requires: [INotebookTracker, IRenderMimeRegistry],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, rendermime: IRenderMimeRegistry,
             palette: ICommandPalette | null) => {
    registerOutputRenderer(new MatxOutputs(tracker, rendermime), rendermime);
    const panel = new MatxPanel();
    const conn = new Connection(panel);
    app.shell.add(panel, 'left', { rank: 900 });

    const current = () => tracker.currentWidget?.sessionContext.session?.kernel;
    const reconnect = () => conn.connect(current());
    tracker.currentChanged.connect(() => {
      const w = tracker.currentWidget;
      if (w) {
        w.sessionContext.ready.then(reconnect);
        w.sessionContext.kernelChanged.connect(reconnect);
      }
      reconnect();
    });
    panel.onJump = (b, d) => void jumpTo(app, tracker, panel, b, d);
    // %load_ext may come after the notebook opened: retry after each cell runs
    NotebookActions.executed.connect(() => {
      if (!conn.comm) {
        reconnect();
      }
    });

    app.commands.addCommand(EXPORT, {
      label: 'Export pipeline (matx_nb)',
      caption: 'Trace a %%matx function on example arguments and save the pipeline folder',
      execute: async () => {
        const examples: { [fn: string]: string } = {};
        const inits: { [fn: string]: string } = {};
        for (const b of panel.builds) {
          Object.assign(examples, b.examples);
          Object.assign(inits, b.init ?? {});
        }
        const fns = Object.keys(examples);
        if (!conn.comm || fns.length === 0) {
          await showDialog({ title: 'Export pipeline', body: 'No compiled %%matx function in this kernel yet.',
                             buttons: [Dialog.okButton()] });
          return;
        }
        const fn = await InputDialog.getItem({ title: 'Export pipeline: function', items: fns.reverse() });
        if (!fn.button.accept || !fn.value) {
          return;
        }
        let init = inits[fn.value] ?? '';
        const owner = fn.value.split('.')[0];
        if (fn.value in inits) {
          const got = await InputDialog.getText({ title: `Arguments to construct ${owner} (none: leave empty)`,
                                                  text: init });
          if (!got.button.accept) {
            return;
          }
          init = got.value ?? '';
        }
        const args = await InputDialog.getText({ title: `Example arguments for ${fn.value}`, text: examples[fn.value] });
        if (!args.button.accept) {
          return;
        }
        const folder = `out/${fn.value.replace(/\.__call__$/, '').replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
        const out = await InputDialog.getText({ title: 'Folder to write', text: folder });
        if (!out.button.accept || !out.value) {
          return;
        }
        const html = await conn.export(fn.value, args.value ?? '', out.value, init);
        const body = new Widget();
        body.node.innerHTML = html; // produced by kernel_ext (escaped there)
        await showDialog({ title: 'Export pipeline', body, buttons: [Dialog.okButton()] });
      }
    });
    panel.onExport = () => void app.commands.execute(EXPORT);
    palette?.addItem({ command: EXPORT, category: 'matx_nb' });
  }
};

export default plugin;
