// zoo.js: sample any zoo export in the browser with onnxruntime-web, driven by manifest.json.
//
// Nothing here knows an architecture: the manifest names the token input, the logits
// output and the state wiring (each state output is the next step's state input), and
// the tokenizer's portable scheme. One step is
//   input_ids (1, 1) int64 + state  ->  logits (1, V) float32 + new state.
// A sample starts a document: the end-of-text token (or manifest.sampling.start_text
// when the tokenizer has none and the prompt is empty), then the prompt's tokens.
//
// Where the export has them (manifest.web.sampler), the page runs its choosing loops
// instead: the same step inside an ONNX Loop that chooses each next token itself, from
// draws the page makes, so one session.run takes many steps. onnxruntime-web's fixed cost
// per run is larger than a small model's step; paid once a call it no longer sets the speed.
//
//   import { loadExport } from "./zoo.js";
//   const model = await loadExport(new URL("./", location.href));
//   for await (const piece of model.generate("ROMEO:", { temperature: 0 })) show(piece);
//
// Errors a reader should see (a missing file, a prompt the tokenizer cannot represent,
// a bad setting) are ZooWebError, whose message is one readable line.

import * as wasmRuntime from "onnxruntime-web"; // WebAssembly only: the fast runtime for it

export const FORMAT_VERSIONS = [1, 2]; // manifest format versions this module reads
const REPLACEMENT = "\ufffd";

/** An error whose message is meant for the person using the page. */
export class ZooWebError extends Error {}

async function fetchFile(url, what, as) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new ZooWebError(`could not fetch ${what} (${url}): ${error.message}; ` +
                          "serve the export folder with `zoo serve EXPORT`");
  }
  if (!response.ok) {
    throw new ZooWebError(`could not load ${what} (${new URL(url).pathname}): ` +
                          `${response.status} ${response.statusText}; ` +
                          "re-export the run with `zoo export RUN --web`");
  }
  return as === "json" ? response.json() : as === "text" ? response.text()
                                                          : response.arrayBuffer();
}

// --- tokenizers: one function per portable scheme, never one per tokenizer ---------------

/** A tokenizer read from ``manifest.tokenizer.portable`` (see docs/export-format.md). */
async function loadTokenizer(baseUrl, manifest, options) {
  const spec = manifest.tokenizer.portable;
  if (!spec) {
    throw new ZooWebError(`the tokenizer '${manifest.tokenizer.name}' gives no portable form; ` +
                          "the web page cannot encode text for it");
  }
  const fileUrl = (name) => new URL(`${manifest.tokenizer.directory}/${name}`, baseUrl);
  switch (spec.scheme) {
    case "char": return tableTokenizer(spec, (text) => Array.from(text)); // code points
    case "word": return tableTokenizer(spec, (text) =>
      text.match(new RegExp(spec.pattern, "gu")) || []);
    case "byte": return byteTokenizer(spec);
    case "huggingface": return huggingfaceTokenizer(
      spec, await fetchFile(fileUrl(spec.file), "the tokenizer", "json"), options);
    default:
      throw new ZooWebError(`the tokenizer scheme '${spec.scheme}' has no JavaScript form ` +
                            "here; sample this export in Python (`zoo sample --onnx`)");
  }
}

/** char and word: pieces[id] is the text of id; text is cut into pieces, each looked up. */
function tableTokenizer(spec, cut) {
  const special = new Set(spec.special_ids || []);
  const ids = new Map();
  spec.pieces.forEach((piece, id) => { if (!special.has(id)) ids.set(piece, id); });
  return {
    endOfText: spec.end_of_text_id ?? null,
    encode(text) {
      return cut(text).map((piece) => {
        const id = ids.get(piece);
        if (id !== undefined) return id;
        if (spec.on_unknown === "error" || spec.unknown_id == null) {
          throw new ZooWebError(`${JSON.stringify(piece)} is not in the vocabulary`);
        }
        return spec.unknown_id;
      });
    },
    decode(tokens) {
      return tokens.map((id) => spec.pieces[id] ?? REPLACEMENT).join("");
    },
  };
}

/** byte: ids 0-255 are the UTF-8 bytes of the text; end of text decodes to nothing. */
function byteTokenizer(spec) {
  const decoder = new TextDecoder("utf-8"); // invalid bytes become U+FFFD, as in Python
  return {
    endOfText: spec.end_of_text_id ?? null,
    encode: (text) => Array.from(new TextEncoder().encode(text)),
    decode: (tokens) => decoder.decode(Uint8Array.from(tokens.filter((id) => id < 256))),
  };
}

/** huggingface (bpe): tokenizer.json read by Hugging Face's tokenizers.js. */
async function huggingfaceTokenizer(spec, json, options) {
  let library;
  try {
    library = await import(options.tokenizersModule || "@huggingface/tokenizers");
  } catch (error) {
    throw new ZooWebError(`could not load tokenizers.js (${error.message}); ` +
                          "re-export with --tokenizers-dir for offline use");
  }
  const tokenizer = new library.Tokenizer(json, {});
  const encodePiece = (text) => Array.from(tokenizer.encode(text, { add_special_tokens: false }).ids);
  const encodeText = spec.byte_fallback ? byteFallback(json, encodePiece) : encodePiece;
  const special = new Set(spec.special_ids || []);
  return {
    endOfText: spec.end_of_text_id ?? null,
    encode(text) {
      if (spec.newline_id == null) return encodeText(text);
      // lines are encoded apart and joined by the newline's own id (sentencepiece)
      return text.split("\n").flatMap((line, i) => [...(i ? [spec.newline_id] : []),
                                                     ...(line ? encodeText(line) : [])]);
    },
    decode: spec.byte_fallback ? byteFallbackDecoder(json, special) : (tokens) => {
      const kept = tokens.filter((id) => !special.has(id));
      return kept.length ? tokenizer.decode(kept, { skip_special_tokens: true }) : "";
    },
  };
}

/**
 * Encoding with byte fallback, which tokenizers.js's Unigram lacks (it gives <unk>): a
 * character that is no piece of the vocabulary becomes its UTF-8 bytes' tokens (<0xNN>),
 * and the text between such characters is encoded as usual (no piece spans one).
 */
function byteFallback(json, encodePiece) {
  const ids = new Map(json.model.vocab.map(([piece], id) => [piece, id]));
  const covered = (ch) => ids.has(ch === " " ? "\u2581" : ch);
  const bytes = new TextEncoder();
  return (text) => {
    const out = [];
    let run = "";
    for (const ch of text) { // code points
      if (covered(ch)) {
        run += ch;
        continue;
      }
      if (run) out.push(...encodePiece(run));
      run = "";
      for (const b of bytes.encode(ch)) {
        out.push(ids.get(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`));
      }
    }
    if (run) out.push(...encodePiece(run));
    return out;
  };
}

/**
 * Decoding with byte fallback as SentencePiece does it: each piece's text with "▁" read as a
 * space, <0xNN> pieces as bytes, and the whole read as UTF-8 (a broken sequence gives
 * U+FFFD for each bad part, as Python's "replace"; tokenizers.js would replace every byte).
 */
function byteFallbackDecoder(json, special) {
  const utf8 = new TextEncoder();
  const bytesOf = json.model.vocab.map(([piece]) => {
    const byte = /^<0x([0-9A-F]{2})>$/.exec(piece);
    return byte ? Uint8Array.of(parseInt(byte[1], 16)) : utf8.encode(piece.replaceAll("\u2581", " "));
  });
  const decoder = new TextDecoder("utf-8");
  return (tokens) => {
    const parts = tokens.filter((id) => !special.has(id)).map((id) => bytesOf[id]);
    const joined = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    return decoder.decode(joined);
  };
}

// --- state ---------------------------------------------------------------------------------

const TYPED = { float32: Float32Array, int64: BigInt64Array, float16: Uint16Array };
const NPY_TYPES = { "<f4": "float32", "<i8": "int64", "<f2": "float16" };

/** The value stored in a .npy file (version 1-3, little-endian, C order) as {dtype, data}. */
function readNpy(buffer, what) {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.slice(1, 6));
  if (bytes[0] !== 0x93 || magic !== "NUMPY") throw new ZooWebError(`${what} is not a .npy file`);
  const view = new DataView(buffer);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.slice(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const dtype = NPY_TYPES[descr];
  if (!dtype || /'fortran_order':\s*True/.test(header)) {
    throw new ZooWebError(`${what} holds ${descr}, not a little-endian float32/int64 array`);
  }
  return { dtype, data: new TYPED[dtype](buffer.slice(start + headerLength)) };
}

/** One state input's initial tensor at batch 1: zeros, or the exported .npy value. */
async function initialTensor(ort, baseUrl, entry, wire) {
  const shape = entry.shape.map((size) => (size === "batch" ? 1 : size));
  const count = shape.reduce((a, b) => a * b, 1);
  if (wire.initial === "zeros") {
    return new ort.Tensor(entry.dtype, new TYPED[entry.dtype](count), shape);
  }
  const what = `the initial state '${wire.input}'`;
  const { dtype, data } = readNpy(await fetchFile(new URL(wire.initial, baseUrl), what), what);
  if (dtype !== entry.dtype || data.length !== count) {
    throw new ZooWebError(`${what} does not have the shape the manifest gives; re-export`);
  }
  return new ort.Tensor(dtype, data, shape);
}

// --- choosing the next token (the rules of zoo.sampling_loop.choose_next) --------------------

/** A seeded generator of floats in [0, 1) (mulberry32); the same seed gives the same draws. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function argmax(values) {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best; // the first of equal maxima, as numpy's argmax
}

/** The next token id from logits (V): greedy at temperature 0, else top-k, top-p, draw. */
export function chooseNext(logits, { temperature, topK, topP }, random) {
  if (temperature === 0) return argmax(logits);
  const scores = Float64Array.from(logits, (x) => x / temperature);
  if (topK && topK < scores.length) {
    const kth = Float64Array.from(scores).sort()[scores.length - topK];
    for (let i = 0; i < scores.length; i++) if (scores[i] < kth) scores[i] = -Infinity;
  }
  let top = -Infinity;
  for (const s of scores) if (s > top) top = s;
  let probs = scores.map((s) => Math.exp(s - top));
  const total = probs.reduce((a, b) => a + b, 0);
  probs = probs.map((p) => p / total);
  if (topP && topP < 1) {
    // keep a token while the mass before it is still below p (the most likely is always kept)
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
    const keep = new Uint8Array(probs.length);
    let before = 0;
    for (const id of order) {
      if (before >= topP) break;
      keep[id] = 1;
      before += probs[id];
    }
    probs = probs.map((p, id) => (keep[id] ? p : 0));
  }
  let cumulative = 0;
  const running = probs.map((p) => (cumulative += p));
  const threshold = random() * cumulative;
  let id = 0;
  while (id < running.length - 1 && running[id] <= threshold) id++;
  return id;
}

/** Checked sampling settings, or a ZooWebError naming the bad one. */
export function checkSettings({ temperature = 0.8, topK = null, topP = null,
                                maxNewTokens = 500, seed = null } = {}) {
  const bad = (what, value) => new ZooWebError(`${what} must be ${value}`);
  if (!(temperature >= 0)) throw bad("temperature", "a number >= 0");
  if (topK != null && !(Number.isInteger(topK) && topK >= 1)) throw bad("top-k", "a whole number >= 1");
  if (topP != null && !(topP > 0 && topP <= 1)) throw bad("top-p", "in (0, 1]");
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 1)) {
    throw bad("max tokens", "a whole number >= 1");
  }
  if (seed != null && !(Number.isInteger(seed) && seed >= 0)) throw bad("the seed", "a whole number >= 0");
  return { temperature, topK, topP, maxNewTokens, seed };
}

/**
 * Newly completed text of a growing list of ids (zoo.sampling_loop.IncrementalDecoder):
 * only a few ids before the new one are decoded again, so each token costs the same, and a
 * character split over tokens (a byte, a BPE piece) is handed out whole once it completes.
 */
class IncrementalDecoder {
  constructor(decode, context = 8) {
    this.decode = decode;
    this.context = context;
    this.ids = [];
    this.emitted = 0; // ids.slice(0, emitted) are already text
  }

  push(id) {
    this.ids.push(id);
    return this.take(false);
  }

  flush() {
    return this.take(true);
  }

  take(final) {
    const start = Math.max(0, this.emitted - this.context);
    const before = this.decode(this.ids.slice(start, this.emitted));
    const text = this.decode(this.ids.slice(start));
    if (!text.startsWith(before) || (text.endsWith(REPLACEMENT) && !final)) return "";
    this.emitted = this.ids.length;
    return text.slice(before.length);
  }
}

// --- the model -----------------------------------------------------------------------------

// Steps in the first call of the choosing loop, and at most in one call: each call takes
// twice as many as the one before (as zoo's Python sampler does), so the first text shows
// soon, a sample that ends early wastes few steps, and a long one makes few calls.
export const FIRST_CALL_STEPS = 4;
export const MAX_CALL_STEPS = 64;

/**
 * A loaded export: its manifest, tokenizer and onnxruntime-web session(s). ``sampler`` is
 * manifest.web.sampler when the page runs its choosing loops (sampler.onnx and the rest),
 * else null: ``session`` then runs the step, one token a call. ``open(file)`` makes a
 * session of another graph of the export, on the same backend.
 */
export class ZooModel {
  constructor(baseUrl, manifest, tokenizer, session, { sampler = null, ort = wasmRuntime,
                                                       open = null } = {}) {
    this.ort = ort; // the onnxruntime-web module the sessions belong to: its Tensor, too
    this.baseUrl = baseUrl;
    this.manifest = manifest;
    this.tokenizer = tokenizer;
    this.session = session;
    this.sampler = sampler;
    this.open = open;
    // the loop session of each choosing head, made when first needed (promises, so that
    // two samples started together share one)
    this.loops = sampler ? { temperature: Promise.resolve(session) } : {};
    this.inputs = Object.fromEntries(manifest.inputs.map((entry) => [entry.name, entry]));
    const role = (entries, wanted, fallback) =>
      (entries.find((e) => e.role === wanted) || { name: fallback }).name;
    this.tokenInput = role(manifest.inputs, "token", "input_ids");
    this.logitsOutput = role(manifest.outputs || [], "logits", "logits");
  }

  /** The prompt's ids after the start of a document; refuses what the tokenizer cannot represent. */
  promptIds(prompt) {
    const end = this.tokenizer.endOfText;
    const text = prompt || end != null ? prompt : this.manifest.sampling.start_text;
    const ids = text ? this.tokenizer.encode(text) : [];
    if (this.tokenizer.decode(ids) !== text) {
      const lost = [...new Set(Array.from(text))].filter(
        (c) => this.tokenizer.decode(this.tokenizer.encode(c)) !== c);
      throw new ZooWebError("the prompt has characters this model's tokenizer cannot " +
                            `represent (${lost.map((c) => JSON.stringify(c)).join(", ")}); ` +
                            "leave them out");
    }
    return end != null ? [end, ...ids] : ids;
  }

  async initialState() {
    const state = {};
    for (const wire of this.manifest.state) {
      state[wire.input] = await initialTensor(this.ort, this.baseUrl, this.inputs[wire.input],
                                              wire);
    }
    return state;
  }

  /** One step: feed ``id`` with ``state``; returns [logits Float32Array (V), next state]. */
  async step(id, state) {
    const { Tensor } = this.ort;
    const feeds = { ...state, [this.tokenInput]: new Tensor("int64", [BigInt(id)], [1, 1]) };
    const results = await this.session.run(feeds);
    const next = {};
    for (const wire of this.manifest.state) next[wire.input] = results[wire.output];
    return [results[this.logitsOutput].data, next];
  }

  /**
   * One call of the choosing loop of head ``kind`` (greedy, temperature or top): feed
   * ``id``, then take ``draws.length`` steps, each choosing a token (from its draw) and
   * feeding it to the next; returns [the chosen ids, the state after feeding all but the
   * last of them].
   */
  async loop(kind, id, draws, choice, state) {
    const { inputs, outputs, graphs } = this.sampler;
    this.loops[kind] ??= this.open(graphs[kind].file);
    const session = await this.loops[kind];
    const steps = draws.length;
    const { Tensor } = this.ort;
    const feeds = {
      ...state,
      [this.tokenInput]: new Tensor("int64", [BigInt(id)], [1, 1]),
      [inputs.steps]: new Tensor("int64", [BigInt(steps)], []),
    };
    if (kind !== "greedy") {
      feeds[inputs.draws] = new Tensor("float64", draws, [steps, 1, 1]);
      feeds[inputs.temperature] = new Tensor("float64", Float64Array.of(choice.temperature), []);
    }
    if (kind === "top") {
      feeds[inputs.top_k] = new Tensor("int64", [BigInt(choice.topK)], [1]);
      feeds[inputs.top_p] = new Tensor("float64", Float64Array.of(choice.topP), []);
    }
    const wanted = [outputs.chosen, ...this.manifest.state.map((wire) => wire.output)];
    const results = await session.run(feeds, wanted); // not the logits: never read
    const next = {};
    for (const wire of this.manifest.state) next[wire.input] = results[wire.output];
    return [Array.from(results[outputs.chosen].data, Number), next];
  }

  /**
   * Sample a continuation of ``prompt``, yielding text as it is made.
   * ``settings``: temperature, topK, topP, maxNewTokens, seed, stopAtEndOfText;
   * ``onToken(count, seconds)`` reports progress after each new token, ``seconds``
   * counted from the first step after the prompt.
   */
  async *generate(prompt, settings = {}, onToken = () => {}) {
    const checked = checkSettings(settings);
    const stopAtEnd = settings.stopAtEndOfText ?? true;
    const random = seededRandom(checked.seed ?? Math.floor(Math.random() * 2 ** 32));
    const ids = this.promptIds(prompt);
    const clock = { started: 0 }; // set when the prompt has been fed
    const batches = this.sampler ? this.loopChoices(ids, checked, random, clock)
      : this.stepChoices(ids, checked, random, clock);
    const stream = new IncrementalDecoder(this.tokenizer.decode);
    let made = 0;
    for await (const chosen of batches) { // the ids one call chose: text is handed out a call
      let text = "";
      const ended = chosen.some((id) => { // at the end of text, the rest is not wanted
        if (stopAtEnd && id === this.tokenizer.endOfText) return true;
        text += stream.push(id);
        onToken(++made, (performance.now() - clock.started) / 1000);
        return false;
      });
      if (text) yield text;
      if (ended) break;
    }
    const rest = stream.flush();
    if (rest) yield rest;
  }

  /** The ids chosen after ``ids``, [id] a call: one step a call, chosen here from its logits. */
  async *stepChoices(ids, { temperature, topK, topP, maxNewTokens }, random, clock) {
    let state = await this.initialState();
    let logits;
    for (const id of ids) [logits, state] = await this.step(id, state);
    clock.started = performance.now();
    for (let n = 0; n < maxNewTokens; n++) {
      const id = chooseNext(logits, { temperature, topK, topP }, random);
      yield [id];
      if (n + 1 < maxNewTokens) [logits, state] = await this.step(id, state);
    }
  }

  /**
   * The ids chosen after ``ids``, many a call of a choosing loop: the head the settings
   * need (as zoo's Python sampler picks it). The draws are random()'s, one a chosen token,
   * in the order stepChoices takes them, so both choose the same tokens.
   */
  async *loopChoices(ids, { temperature, topK, topP, maxNewTokens }, random, clock) {
    const vocab = this.manifest.vocab_size;
    const greedy = temperature === 0;
    const top = !greedy && ((topK != null && topK < vocab) || (topP != null && topP < 1));
    const kind = greedy ? "greedy" : top ? "top" : "temperature";
    const choice = { temperature, topK: Math.min(topK ?? vocab, vocab), topP: topP ?? 1 };
    let state = await this.initialState();
    for (const id of ids.slice(0, -1)) {
      [, state] = await this.loop(kind, id, Float64Array.of(0), choice, state);
    }
    clock.started = performance.now();
    let fed = ids[ids.length - 1];
    let steps = FIRST_CALL_STEPS;
    for (let made = 0; made < maxNewTokens; steps = Math.min(2 * steps, MAX_CALL_STEPS)) {
      const draws = new Float64Array(Math.min(steps, maxNewTokens - made));
      if (!greedy) draws.forEach((_, i) => { draws[i] = random(); });
      let chosen;
      [chosen, state] = await this.loop(kind, fed, draws, choice, state);
      yield chosen;
      made += chosen.length;
      fed = chosen[chosen.length - 1];
    }
  }
}

/**
 * Load the export served at ``baseUrl`` (a URL ending in "/").
 * ``options.executionProviders``: onnxruntime-web backends in order of preference, the
 * first that loads the model is used (default ["wasm"]; the page offers WebGPU where the
 * browser has it); ``options.threads``: WebAssembly threads (default 1); ``options.loop``:
 * false runs the step graph one token a call even where the export has choosing loops.
 */
export async function loadExport(baseUrl, options = {}) {
  const manifest = await fetchFile(new URL("manifest.json", baseUrl), "manifest.json", "json");
  if (!FORMAT_VERSIONS.includes(manifest.format_version)) {
    throw new ZooWebError(`manifest.json has format ${manifest.format_version}; this page ` +
                          `reads ${FORMAT_VERSIONS.join(" and ")}: re-export with this zoo`);
  }
  const tokenizer = await loadTokenizer(baseUrl, manifest, options);
  // The choosing loops where the export has them and options.loop is not false; the
  // temperature head (the page's default settings) is loaded now, the others when needed.
  const sampler = options.loop === false ? null : manifest.web?.sampler ?? null;
  const file = sampler ? sampler.graphs.temperature.file : manifest.model_file;
  const model = await fetchFile(new URL(file, baseUrl), file);
  const weights = sampler && new Uint8Array(await fetchFile(
    new URL(sampler.weights.file, baseUrl), sampler.weights.file));
  const sessionOptions = (provider) => ({
    executionProviders: [provider],
    ...(weights ? { externalData: [{ path: sampler.weights.file, data: weights }] } : {}),
  });
  // WebAssembly first: at batch 1 a step is too small for a GPU to win back the trip
  // there and back; ask for ["webgpu", "wasm"] to try the GPU first.
  const providers = options.executionProviders || ["wasm"];
  const failures = [];
  let ort = wasmRuntime;
  if (providers.includes("webgpu")) { // its own bundle, loaded only when asked for
    try {
      ort = await import("onnxruntime-web/webgpu");
    } catch (error) {
      failures.push(`webgpu: ${String(error.message || error).split("\n")[0]}`);
    }
  }
  // One thread: a step at batch 1 is too small to share out (and more than one needs a
  // cross-origin-isolated page); options.threads overrides it.
  ort.env.wasm.numThreads = options.threads ?? 1;
  let session = null;
  let backend = null;
  for (const provider of providers) { // the first backend that loads the model is used
    try {
      session = await ort.InferenceSession.create(model, sessionOptions(provider));
      backend = provider;
      break;
    } catch (error) {
      failures.push(`${provider}: ${String(error.message || error).split("\n")[0]}`);
    }
  }
  if (!session) {
    throw new ZooWebError(`onnxruntime-web could not load ${file} ` +
                          `(${failures.join("; ")})`);
  }
  const open = async (other) => ort.InferenceSession.create(
    await fetchFile(new URL(other, baseUrl), other), sessionOptions(backend));
  return Object.assign(new ZooModel(baseUrl, manifest, tokenizer, session,
                                    { sampler, ort, open }), { backend });
}
