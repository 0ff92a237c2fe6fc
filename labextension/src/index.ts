// matx_nb side panel: lists the current notebook kernel's %%matx builds (pushed
// by kernel_ext/panel.py over the comm target "matx_nb.panel") and adds the
// "Export pipeline" command, which asks the kernel to trace and save a pipeline.
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, InputDialog, showDialog } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { Kernel } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

const TARGET = 'matx_nb.panel';
const EXPORT = 'matx-nb:export-pipeline';

interface IBuild {
  cell: string;
  name: string;
  state: string;
  status: string;
  seconds: number | null;
  objects: { name: string; line: number; kind: string; cache_hit: boolean; failed: boolean }[];
  examples: { [fn: string]: string };
}

class MatxPanel extends Widget {
  builds: IBuild[] = [];
  note = 'Open a notebook and run %load_ext matx_nb.';
  onExport: () => void = () => undefined;

  constructor() {
    super();
    this.id = 'matx-nb-panel';
    this.title.label = 'matx';
    this.title.caption = 'matx_nb: compiled cells';
    this.addClass('matx-nb-panel');
    this.render();
  }

  update_(builds: IBuild[] | null, note = ''): void {
    if (builds) {
      this.builds = builds;
    }
    this.note = note;
    this.render();
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
      const div = document.createElement('div');
      div.className = `matx-nb-build matx-nb-state-${b.state}`;
      const title = document.createElement('div');
      title.textContent = `${b.cell}: ${b.status}`;
      div.appendChild(title);
      const objs = document.createElement('div');
      objs.className = 'matx-nb-muted';
      objs.textContent = b.objects
        .map(o => `${o.kind} ${o.name} (line ${o.line})${o.failed ? ' failed' : o.cache_hit ? ' cached' : ''}`)
        .join(', ');
      div.appendChild(objs);
      node.appendChild(div);
    }
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
        this.panel.update_(data.builds as IBuild[]);
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

  export(fn: string, args: string, out: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (!this.comm) {
        reject(new Error('the kernel has not loaded matx_nb'));
        return;
      }
      const request = this.next++;
      this.requests.set(request, resolve);
      this.comm.send({ action: 'export', function: fn, args, out, request });
    });
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'matx-nb-labextension:plugin',
  description: 'matx_nb side panel and Export pipeline command',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, palette: ICommandPalette | null) => {
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
        for (const b of panel.builds) {
          Object.assign(examples, b.examples);
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
        const args = await InputDialog.getText({ title: `Example arguments for ${fn.value}`, text: examples[fn.value] });
        if (!args.button.accept) {
          return;
        }
        const out = await InputDialog.getText({ title: 'Folder to write', text: `out/${fn.value}` });
        if (!out.button.accept || !out.value) {
          return;
        }
        const html = await conn.export(fn.value, args.value ?? '', out.value);
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
