// The current playground request as curl and openai-SDK code, with the key left in the environment.

const KEY_VARIABLE = "TTS_ROUTER_API_KEY";

function shellQuoted(text) {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function pythonValue(value) {
  if (typeof value === "number") return String(value);
  if (value && typeof value === "object") {
    const items = Object.entries(value).map(
      ([name, item]) => `${JSON.stringify(name)}: ${pythonValue(item)}`,
    );
    return `{${items.join(", ")}}`;
  }
  // A JSON string literal is a valid Python string literal.
  return JSON.stringify(value);
}

function pythonFloat(value) {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** `curl` for `body` posted to `url`, saving the audio to `filename`. */
export function curlSnippet(url, body, filename) {
  return [
    `curl ${url} \\`,
    `  -H "Authorization: Bearer $${KEY_VARIABLE}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d ${shellQuoted(JSON.stringify(body, null, 2))} \\`,
    `  --output ${filename}`,
  ].join("\n");
}

/** openai-SDK Python for `body` sent to `baseUrl`; non-OpenAI controls go in `extra_body`. */
export function pythonSnippet(baseUrl, body, extra, filename) {
  const lines = [
    "import os",
    "",
    "from openai import OpenAI",
    "",
    "client = OpenAI(",
    `    base_url=${JSON.stringify(baseUrl)},`,
    `    api_key=os.environ[${JSON.stringify(KEY_VARIABLE)}],`,
    ")",
    "with client.audio.speech.with_streaming_response.create(",
    `    model=${pythonValue(body.model)},`,
    `    voice=${pythonValue(body.voice)},`,
    `    input=${pythonValue(body.input)},`,
    `    response_format=${pythonValue(body.response_format)},`,
    `    speed=${pythonFloat(body.speed)},`,
  ];
  if (Object.keys(extra).length) lines.push(`    extra_body=${pythonValue(extra)},`);
  lines.push(") as response:", `    response.stream_to_file(${JSON.stringify(filename)})`);
  return lines.join("\n");
}
