// %%matx outputs (kernel_ext/view.py): one display bundle holding the live
// widget view, a static HTML copy of the output's state (text/html) and our
// mimetype, {display_id, kernel_session}. Its renderer, ranked above the widget
// view, shows the widgets while the notebook (or console) runs the kernel that
// made them and the static copy otherwise (a reopened notebook, a stopped or
// restarted kernel), where the widget renderer would say "model not found".
// Which kernel made an output: every message a kernel sends names its session,
// as does the bundle (kernel_ext/view.py kernel_session()). The kernel's
// later updates of a bundle are written into the cell's output model even where
// JupyterLab no longer routes them (the page was reloaded while a build ran), so
// a save keeps the final static copy.
import type { ISessionContext } from '@jupyterlab/apputils';
import type { ICodeCellModel } from '@jupyterlab/cells';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry, RenderedHTML } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import type { Message } from '@lumino/messaging';
import { ISignal, Signal } from '@lumino/signaling';
import { PanelLayout, Widget } from '@lumino/widgets';

export const OUTPUT_MIME = 'application/vnd.matx-nb.output+json';
const WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json';
const RANK = -20; // the widget view's is -10, text/html's 50
const BIND_WAIT_MS = 20_000; // how long ipywidgets may take to serve a notebook
const STATIC_AFTER_MS = 1000; // the static copy stands in for widgets slower than this

interface IOutputRef {
  display_id: string;
  kernel_session: string;
}

const sleep = (ms: number) => new Promise(resolve => window.setTimeout(resolve, ms));

/** Where an output is shown: a notebook or a console, with its kernel and its rendermime. */
interface IHost {
  sessionContext: ISessionContext;
  rendermime: IRenderMimeRegistry;
}

/** The session id of the kernel each notebook or console runs, and the kernels' bundle updates. */
export class MatxOutputs {
  private sessions = new WeakMap<Kernel.IKernelConnection, string>();
  private watched = new WeakSet<object>(); // session contexts and kernels
  private _changed = new Signal<this, void>(this);

  constructor(private tracker: INotebookTracker, private rendermime: IRenderMimeRegistry) {
    tracker.forEach(panel => this.watch(panel.sessionContext));
    tracker.widgetAdded.connect((_, panel) => this.watch(panel.sessionContext));
  }

  /** A kernel started, stopped, restarted or made itself known. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The session id of the host's running kernel ('' while unknown or without a kernel). */
  sessionOf(host: IHost): string {
    const kernel = host.sessionContext.session?.kernel;
    return kernel ? this.sessions.get(kernel) ?? '' : '';
  }

  /** The host of a renderer: the notebook whose rendermime (by its URL resolver,
   * one per document) made it, known before the output is attached; else, once
   * attached, the output area's rendermime and the session of the widget above
   * it that has one (a console); null for an output shown elsewhere. */
  hostOf(renderer: Widget, resolver: IRenderMime.IResolver | null | undefined): IHost | null {
    const panel = resolver ? this.tracker.find(p => p.content.rendermime.resolver === resolver) : undefined;
    if (panel) {
      return { sessionContext: panel.sessionContext, rendermime: panel.content.rendermime };
    }
    let rendermime: IRenderMimeRegistry | null = null;
    for (let w = renderer.parent; w; w = w.parent) {
      const any = w as any;
      rendermime = rendermime ?? (typeof any.rendermime?.getFactory === 'function' ? any.rendermime : null);
      if (rendermime && any.sessionContext?.kernelChanged) {
        this.watch(any.sessionContext as ISessionContext);
        return { sessionContext: any.sessionContext, rendermime };
      }
    }
    return null;
  }

  /** The host's own widget-view factory, once ipywidgets has bound its rendermime
   * to the widget manager (after the kernel is ready); null without ipywidgets. */
  async widgetFactory(host: IHost): Promise<IRenderMime.IRendererFactory | null> {
    const placeholder = this.rendermime.getFactory(WIDGET_VIEW);
    if (!placeholder) {
      return null;
    }
    for (let waited = 0; waited < BIND_WAIT_MS && !host.sessionContext.isDisposed; waited += 100) {
      const factory = host.rendermime.getFactory(WIDGET_VIEW);
      if (factory && factory !== placeholder) {
        return factory;
      }
      await sleep(100);
    }
    return null;
  }

  private watch(ctx: ISessionContext): void {
    if (this.watched.has(ctx)) {
      return;
    }
    this.watched.add(ctx);
    const onKernel = () => {
      const kernel = ctx.session?.kernel;
      if (kernel) {
        this.watchKernel(kernel);
      }
      this._changed.emit();
    };
    ctx.kernelChanged.connect(onKernel);
    void ctx.ready.then(onKernel, () => undefined);
  }

  private watchKernel(kernel: Kernel.IKernelConnection): void {
    if (this.watched.has(kernel)) {
      return;
    }
    this.watched.add(kernel);
    const learn = (session: string | undefined) => {
      if (session && this.sessions.get(kernel) !== session) {
        this.sessions.set(kernel, session);
        this._changed.emit();
      }
    };
    kernel.iopubMessage.connect((_, msg) => {
      learn(msg.header.session);
      if (msg.header.msg_type === 'update_display_data') {
        this.updated(kernel, (msg as KernelMessage.IUpdateDisplayDataMsg).content);
      }
    });
    kernel.statusChanged.connect((_, status) => {
      if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
        this.sessions.delete(kernel); // its widgets are gone; the next message names the new session
        this._changed.emit();
      }
    });
    // an idle kernel sends nothing: its kernel_info reply carries its session
    kernel.requestKernelInfo().then(reply => learn(reply?.header.session), () => undefined);
  }

  /** An update of a bundle: into each output model with its display id that does not have it yet. */
  private updated(kernel: Kernel.IKernelConnection, content: KernelMessage.IUpdateDisplayDataMsg['content']): void {
    const ref = content.data?.[OUTPUT_MIME] as unknown as IOutputRef | undefined;
    if (!ref?.display_id) {
      return;
    }
    const seen = new Set<unknown>();
    this.tracker.forEach(panel => {
      if (panel.sessionContext.session?.kernel !== kernel || !panel.model || seen.has(panel.model)) {
        return;
      }
      seen.add(panel.model);
      for (const cell of panel.model.cells) {
        if (cell.type !== 'code') {
          continue;
        }
        const outputs = (cell as ICodeCellModel).outputs;
        for (let i = 0; i < outputs.length; i++) {
          const data = outputs.get(i).data;
          const here = data[OUTPUT_MIME] as unknown as IOutputRef | undefined;
          if (here?.display_id === ref.display_id &&
              (data['text/html'] !== content.data['text/html'] || data['text/plain'] !== content.data['text/plain'])) {
            outputs.set(i, { output_type: 'display_data', data: content.data, metadata: content.metadata });
          }
        }
      }
    });
  }
}

/** The live widgets of an output: the host's widget renderer, hidden until its view is built. */
interface ILive {
  modelId: string;
  widget: IRenderMime.IRenderer;
  revealed: boolean;
  observer: MutationObserver;
}

/** One %%matx output: the host's widget renderer while the widgets live in the
 * host's kernel, else the static copy rendered as JupyterLab renders text/html. */
class MatxOutput extends Widget implements IRenderMime.IRenderer {
  private model: IRenderMime.IMimeModel | null = null;
  private live: ILive | null = null;
  private static_: { widget: Widget; model: IRenderMime.IMimeModel } | null = null;
  private dead = new Set<string>(); // widget models the manager did not find
  private generation = 0; // of refresh(): a later call supersedes one waiting for ipywidgets

  constructor(private options: IRenderMime.IRendererOptions, private outputs: MatxOutputs) {
    super();
    this.layout = new PanelLayout();
    this.addClass('matx-nb-output');
    outputs.changed.connect(this.refresh, this);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.model = model;
    await this.refresh();
  }

  dispose(): void {
    this.live?.observer.disconnect();
    Signal.clearData(this);
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this.live) {
      void this.refresh(); // a host found only from the widgets above this one (a console)
    }
  }

  private async refresh(): Promise<void> {
    const model = this.model;
    if (!model || this.isDisposed) {
      return;
    }
    const generation = ++this.generation;
    const ref = model.data[OUTPUT_MIME] as unknown as IOutputRef | undefined;
    const modelId = (model.data[WIDGET_VIEW] as { model_id?: string } | undefined)?.model_id ?? '';
    const host = this.outputs.hostOf(this, this.options.resolver);
    if (host && ref?.kernel_session && modelId && model.trusted && !this.dead.has(modelId) &&
        this.outputs.sessionOf(host) === ref.kernel_session) {
      if (this.live?.modelId === modelId) {
        return; // the widgets update themselves
      }
      const ready = this.outputs.widgetFactory(host);
      const factory = await Promise.race([ready, sleep(0).then(() => undefined)]);
      if (factory === undefined && generation === this.generation && !this.static_) {
        this.showStatic(model); // ipywidgets is not serving the host yet
      }
      const bound = factory ?? (await ready);
      if (generation !== this.generation || this.isDisposed) {
        return;
      }
      if (bound) {
        this.showLive(bound, modelId);
        return;
      }
    }
    this.dropLive();
    this.showStatic(model);
  }

  /** The static copy of the model, in front of whatever else is there. */
  private showStatic(model: IRenderMime.IMimeModel): void {
    if (this.static_?.model === model) {
      return;
    }
    this.static_?.widget.dispose();
    const widget = new RenderedHTML({ ...this.options, mimeType: 'text/html' });
    widget.addClass('matx-nb-static');
    (this.layout as PanelLayout).insertWidget(0, widget);
    void widget.renderModel(model);
    this.static_ = { widget, model };
  }

  private dropLive(): void {
    if (this.live) {
      this.live.observer.disconnect();
      this.live.widget.dispose();
      this.live = null;
    }
  }

  /** The host's widget renderer, hidden until its view is built (the static copy
   * shows if that takes a while: a reloaded page waits for the kernel's widgets);
   * if the manager does not find the model, the static copy stays. */
  private showLive(factory: IRenderMime.IRendererFactory, modelId: string): void {
    this.dropLive();
    const widget = factory.createRenderer({ ...this.options, mimeType: WIDGET_VIEW });
    widget.hide();
    (this.layout as PanelLayout).addWidget(widget);
    const check = () => {
      if (this.live !== live) {
        return;
      }
      // ipywidgets writes an error in place of the view, or hides itself when the view goes
      const failed = widget.node.textContent?.startsWith('Error displaying widget') ||
                     (live.revealed && widget.isHidden);
      const built = widget.layout instanceof PanelLayout && widget.layout.widgets.length > 0;
      if (failed) {
        this.dead.add(modelId);
        this.dropLive();
        if (this.model) {
          this.showStatic(this.model);
        }
      } else if (built && !live.revealed) {
        live.revealed = true;
        this.static_?.widget.dispose();
        this.static_ = null;
        widget.show();
      }
    };
    const live: ILive = { modelId, widget, revealed: false, observer: new MutationObserver(check) };
    this.live = live;
    live.observer.observe(widget.node, { childList: true, attributes: true, attributeFilter: ['class'] });
    window.setTimeout(() => {
      if (this.live === live && !live.revealed && this.model) {
        this.showStatic(this.model);
      }
    }, STATIC_AFTER_MS);
    void widget.renderModel(this.model!).then(check, () => {
      if (this.live === live) {
        this.dead.add(modelId);
        this.dropLive();
        if (this.model) {
          this.showStatic(this.model);
        }
      }
    });
  }
}

export function registerOutputRenderer(outputs: MatxOutputs, rendermime: IRenderMimeRegistry): void {
  rendermime.addFactory(
    {
      safe: false, // like the widget view: an untrusted output shows text/html, sanitized, as before
      mimeTypes: [OUTPUT_MIME],
      defaultRank: RANK,
      createRenderer: options => new MatxOutput(options, outputs)
    },
    RANK
  );
}
