// Voice files: the tenant's reference recordings, listed and uploaded through the Files API.

import { json } from "./api.js";
import { byId, say } from "./dom.js";

const FILES_PATH = "/openai/v1/files";

/** The tenant's voice files, newest first. */
export async function listVoiceFiles() {
  const body = await json(FILES_PATH);
  return body.data;
}

async function upload(file) {
  const form = new FormData();
  form.append("purpose", "voice");
  form.append("file", file, file.name);
  return json(FILES_PATH, { method: "POST", body: form });
}

/** Wire the upload form; `uploaded(file)` runs with each new voice file. */
export function setupVoiceUpload(uploaded) {
  const input = byId("voice-file");
  const error = byId("voice-error");
  const status = byId("voice-status");
  const submit = byId("voice-submit");
  byId("voice-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    say(error, "");
    const file = input.files[0];
    if (!file) {
      say(error, "Choose a recording to upload first.");
      input.focus();
      return;
    }
    submit.disabled = true;
    say(status, `Uploading ${file.name}…`);
    try {
      const created = await upload(file);
      uploaded(created);
      input.value = "";
      const seconds = Number(created.duration_seconds).toFixed(1);
      const text = `Uploaded ${created.filename} (${seconds} s) as ${created.id}.`;
      say(status, `${text} It is now the chosen voice.`, "success");
    } catch (failure) {
      say(status, "");
      say(error, failure.message);
    } finally {
      submit.disabled = false;
    }
  });
}
