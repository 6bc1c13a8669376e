// The playground: text, model, voice, format, speed and the model's own controls; playback as
// the audio streams in, a download, and the same request as code.

import { request } from "./api.js";
import { byId, el, say, setOptions } from "./dom.js";
import { EXTENSIONS, canStream, play } from "./player.js";
import { curlSnippet, pythonSnippet } from "./snippets.js";
import { listVoiceFiles, setupVoiceUpload } from "./voices.js";

/** A voice's name, with its language and gender where the model says them. */
function voiceLabel(voice) {
  const traits = [voice.language, voice.gender].filter(Boolean).join(", ");
  return traits ? `${voice.id} (${traits})` : voice.id;
}

const SPEECH_PATH = "/openai/v1/audio/speech";
const PREFERRED_MODEL = "tts-1";
const CONTROL_LABELS = {
  temperature: "Temperature",
  exaggeration: "Exaggeration",
  cfg_weight: "CFG weight",
  seed: "Seed",
};

let context = null;
let models = [];
let voiceFiles = [];
let running = null;
const controlValues = {};
const blobUrls = [];

function chosenModel() {
  return models.find((model) => model.id === byId("speech-model").value) || null;
}

function characters(text) {
  return [...text].length;
}

function updateCount() {
  const model = chosenModel();
  const limit = model ? model.max_input_chars : 4096;
  const count = characters(byId("speech-text").value);
  const counter = byId("speech-count");
  const over = count - limit;
  counter.textContent =
    over > 0
      ? `${count} / ${limit} characters: ${over} over the limit`
      : `${count} / ${limit} characters`;
  counter.classList.toggle("over-limit", over > 0);
}

function voiceOptions(model) {
  const builtin = el(
    "optgroup",
    { label: "Built-in voices" },
    model.voices.map((voice) => el("option", { value: `voice:${voice.id}`, text: voiceLabel(voice) })),
  );
  if (!model.voice_cloning || voiceFiles.length === 0) return [builtin];
  const uploaded = el(
    "optgroup",
    { label: "Uploaded voices" },
    voiceFiles.map((file) =>
      el("option", { value: `file:${file.id}`, text: `${file.filename} (${file.id})` }),
    ),
  );
  return [builtin, uploaded];
}

function renderControls(model) {
  const list = byId("speech-controls-list");
  list.replaceChildren(
    ...model.sampling_controls.map((control) => {
      const id = `speech-control-${control.name}`;
      const range = `${control.min} to ${control.max}`;
      const input = el("input", {
        id,
        type: "number",
        min: control.min,
        max: control.max,
        step: control.type === "integer" ? "1" : "0.05",
        inputmode: control.type === "integer" ? "numeric" : "decimal",
        placeholder: "Model default",
        "data-control": control.name,
        "aria-describedby": `${id}-hint`,
        value: controlValues[control.name] ?? "",
        oninput: () => {
          controlValues[control.name] = input.value;
          updateSnippets();
        },
      });
      return el("div", { class: "field" }, [
        el("label", { for: id, text: CONTROL_LABELS[control.name] || control.name }),
        input,
        el("p", { id: `${id}-hint`, class: "hint", text: range }),
      ]);
    }),
  );
  byId("speech-controls").hidden = model.sampling_controls.length === 0;
}

function modelChanged() {
  const model = chosenModel();
  if (!model) return;
  setOptions(byId("speech-voice"), voiceOptions(model), `voice:${model.voices[0]?.id}`);
  setOptions(
    byId("speech-format"),
    model.formats.map((format) => el("option", { value: format, text: format })),
    "mp3",
  );
  const speed = byId("speech-speed");
  speed.min = model.speed.min;
  speed.max = model.speed.max;
  renderControls(model);
  byId("voice-upload").hidden = !model.voice_cloning;
  const notes = [];
  if (model.route !== model.id) notes.push(`Another name for ${model.route}.`);
  if (model.voice_cloning) notes.push("Speaks with uploaded voices.");
  if (!model.ready) notes.push("No provider of this model is ready right now.");
  byId("speech-model-note").textContent = notes.join(" ");
  updateCount();
  updateSnippets();
}

/** The request as the API takes it: OpenAI's fields, and the model controls that are set. */
function speechRequest() {
  const model = chosenModel();
  const [kind, name] = splitOnce(byId("speech-voice").value, ":");
  const body = {
    model: model ? model.id : "",
    voice: kind === "file" ? { id: name } : name,
    input: byId("speech-text").value,
    response_format: byId("speech-format").value || "mp3",
    speed: Number(byId("speech-speed").value),
  };
  const extra = {};
  for (const input of document.querySelectorAll("[data-control]")) {
    if (input.value.trim() !== "") extra[input.dataset.control] = Number(input.value);
  }
  return { body, extra };
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

function updateSnippets() {
  const { body, extra } = speechRequest();
  const filename = `speech.${EXTENSIONS[body.response_format] || "audio"}`;
  const base = `${location.origin}/openai/v1`;
  byId("snippet-curl").textContent = curlSnippet(
    `${base}/audio/speech`,
    { ...body, ...extra },
    filename,
  );
  byId("snippet-python").textContent = pythonSnippet(base, body, extra, filename);
}

function invalidReason(body, extra) {
  const model = chosenModel();
  if (!model) return "Choose a model.";
  if (!body.input.trim()) return "Enter some text to speak.";
  const over = characters(body.input) - model.max_input_chars;
  if (over > 0) {
    return `The text is over this model's limit of ${model.max_input_chars} characters by ${over}.`;
  }
  for (const input of document.querySelectorAll("[data-control]")) {
    if (input.dataset.control in extra && !input.checkValidity()) {
      const label = CONTROL_LABELS[input.dataset.control];
      return `${label} must be between ${input.min} and ${input.max}.`;
    }
  }
  return null;
}

function releaseBlobUrls() {
  while (blobUrls.length) URL.revokeObjectURL(blobUrls.pop());
}

async function synthesize(event) {
  event.preventDefault();
  const { body, extra } = speechRequest();
  const error = byId("speech-error");
  const status = byId("speech-status");
  const invalid = invalidReason(body, extra);
  say(error, invalid || "");
  if (invalid) return;
  if (running) running.abort();
  const controller = new AbortController();
  running = controller;
  releaseBlobUrls();
  const download = byId("speech-download");
  download.hidden = true;
  byId("speech-stop").hidden = false;
  say(status, "Synthesizing…");
  const started = performance.now();
  try {
    const response = await request(SPEECH_PATH, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...body, ...extra }),
      signal: controller.signal,
    });
    const requestId = response.headers.get("x-request-id") || "";
    let firstAudio = null;
    const audio = byId("speech-audio");
    const file = await play(response, body.response_format, audio, () => {
      firstAudio = performance.now() - started;
      const streaming = canStream(body.response_format);
      say(status, streaming ? "Playing while the rest is synthesized…" : "Playing…");
    });
    blobUrls.push(audio.src);
    const url = URL.createObjectURL(file);
    blobUrls.push(url);
    const filename = `speech.${EXTENSIONS[body.response_format]}`;
    download.href = url;
    download.download = filename;
    download.textContent = `Download ${filename}`;
    download.hidden = false;
    const total = ((performance.now() - started) / 1000).toFixed(1);
    const kilobytes = (file.size / 1024).toFixed(1);
    say(
      status,
      `Done: ${kilobytes} kB in ${total} s, first audio after ${Math.round(firstAudio)} ms. ` +
        `Request ${requestId}.`,
      "success",
    );
    status.dataset.requestId = requestId;
  } catch (failure) {
    if (failure.name === "AbortError") say(status, "Stopped.");
    else {
      say(status, "");
      say(error, failure.status ? failure.message : `The audio stream failed: ${failure.message}`);
    }
  } finally {
    if (running === controller) {
      running = null;
      byId("speech-stop").hidden = true;
    }
  }
}

function audioFailed() {
  const audio = byId("speech-audio");
  if (!audio.error || !audio.getAttribute("src")) return;
  const format = byId("speech-format").value;
  say(
    byId("speech-error"),
    `This browser cannot play ${format} audio. Use the Download link instead.`,
  );
}

function voiceUploaded(created) {
  voiceFiles = [created, ...voiceFiles.filter((known) => known.id !== created.id)];
  modelChanged();
  byId("speech-voice").value = `file:${created.id}`;
  updateSnippets();
}

async function copyFrom(button) {
  const text = byId(button.dataset.copy).textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed: select the text";
  }
  setTimeout(() => {
    button.textContent = "Copy";
  }, 2000);
}

/** Wire the playground's controls once. */
export function setup() {
  byId("speech-text").addEventListener("input", () => {
    updateCount();
    updateSnippets();
  });
  byId("speech-model").addEventListener("change", modelChanged);
  for (const id of ["speech-voice", "speech-format"]) {
    byId(id).addEventListener("change", updateSnippets);
  }
  byId("speech-speed").addEventListener("input", () => {
    byId("speech-speed-value").textContent = `${Number(byId("speech-speed").value).toFixed(2)}×`;
    updateSnippets();
  });
  byId("speech-form").addEventListener("submit", synthesize);
  byId("speech-stop").addEventListener("click", () => running && running.abort());
  byId("speech-audio").addEventListener("error", audioFailed);
  setupVoiceUpload(voiceUploaded);
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", () => copyFrom(button));
  }
  updateCount();
}

/** Load the models and voice files of a newly signed-in key. */
export async function show(shared) {
  if (shared === context) return;
  context = shared;
  const section = byId("view-playground");
  section.setAttribute("aria-busy", "true");
  try {
    models = await shared.models();
    voiceFiles = await listVoiceFiles().catch(() => []);
  } catch (failure) {
    context = null;
    say(byId("speech-error"), failure.message);
    return;
  } finally {
    section.removeAttribute("aria-busy");
  }
  const preferred = models.some((model) => model.id === PREFERRED_MODEL)
    ? PREFERRED_MODEL
    : models[0]?.id;
  setOptions(
    byId("speech-model"),
    models.map((model) => el("option", { value: model.id, text: model.id })),
    preferred,
  );
  modelChanged();
}
