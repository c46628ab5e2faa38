// page.js: the sampling page's controls. Everything about the model is in zoo.js.
import { ZooWebError, loadExport } from "./zoo.js";

const $ = (id) => document.getElementById(id);
const body = document.body;

function setState(state) {
  body.dataset.state = state; // loading, ready, running, done or error (read by the tests)
  $("generate").disabled = state === "loading" || state === "running";
  $("stop").disabled = state !== "running";
}

function showError(error) {
  // a ZooWebError is written for the reader; anything else is a bug worth its first line
  const text = error instanceof ZooWebError ? error.message
    : `unexpected error: ${String(error?.message || error).split("\n")[0]}`;
  $("error").textContent = text;
  $("error").hidden = false;
}

/** The number in input ``id``, null when empty, a ZooWebError when not a number. */
function numberIn(id, whole) {
  const raw = $(id).value.trim();
  if (raw === "") return null;
  const value = Number(raw);
  if (!Number.isFinite(value) || (whole && !Number.isInteger(value))) {
    throw new ZooWebError(`${$(id).labels[0].textContent.trim()} must be ` +
                          `${whole ? "a whole number" : "a number"}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

let model = null;
let stopRequested = false;

async function generate() {
  $("error").hidden = true;
  $("output").textContent = "";
  stopRequested = false;
  setState("running");
  try {
    const settings = {
      temperature: numberIn("temperature", false) ?? 0.8,
      topK: numberIn("top-k", true),
      topP: numberIn("top-p", false),
      seed: numberIn("seed", true),
      maxNewTokens: numberIn("max-tokens", true) ?? 200,
      stopAtEndOfText: $("stop-at-end").checked,
    };
    const prompt = $("prompt").value;
    let made = 0;
    let rate = 0;
    const clicked = performance.now();
    delete $("speed").dataset.firstTokenMs;
    const showSpeed = () => {
      $("speed").dataset.tokensPerSecond = String(rate);
      $("speed").textContent = `${made} tokens, ${rate.toFixed(0)} tokens/s, first token ` +
        `after ${Number($("speed").dataset.firstTokenMs || 0).toFixed(0)} ms`;
    };
    const onToken = (count, seconds) => {
      made = count;
      rate = count / Math.max(seconds, 1e-9);
      if (count === 1) $("speed").dataset.firstTokenMs = String(performance.now() - clicked);
      if (count % 64 === 0) showSpeed(); // not every token: the page stays cheap to update
    };
    $("output").textContent = prompt;
    for await (const piece of model.generate(prompt, settings, onToken)) {
      $("output").textContent += piece;
      if (stopRequested) break;
    }
    showSpeed();
    setState("done");
  } catch (error) {
    showError(error);
    setState("error");
  }
}

async function load() {
  setState("loading");
  $("error").hidden = true;
  const started = performance.now();
  try {
    // ?loop=0 runs the step graph one token a call, without the choosing loops
    const loop = new URLSearchParams(location.search).get("loop") !== "0";
    model = await loadExport(new URL("./", location.href),
                             { executionProviders: [$("backend").value, "wasm"], loop });
    const m = model.manifest;
    $("title").textContent = `${m.architecture}, trained ${m.trained_steps} steps`;
    $("about").textContent = `tokenizer ${m.tokenizer.name} (vocabulary ${m.vocab_size}), ` +
      `${m.quantized ? `${m.quantized} weights` : "float weights"}, ` +
      `onnxruntime-web ${model.backend}, ` +
      `${model.sampler ? "many steps a call" : "one step a call"}`;
    body.dataset.loadMs = String(performance.now() - started);
    const defaults = m.sampling;
    if (defaults.temperature != null) $("temperature").value = defaults.temperature;
    if (defaults.top_k != null) $("top-k").value = defaults.top_k;
    if (defaults.top_p != null) $("top-p").value = defaults.top_p;
    setState("ready");
  } catch (error) {
    showError(error);
    setState("error");
  }
}

$("generate").addEventListener("click", generate);
$("stop").addEventListener("click", () => { stopRequested = true; });
$("backend").addEventListener("change", load);
if (!navigator.gpu) $("backend").querySelector("[value=webgpu]").disabled = true;
load();
