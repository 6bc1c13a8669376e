// Playing a speech response as it arrives: MediaSource for MP3, otherwise the whole file.

export const MEDIA_TYPES = {
  mp3: "audio/mpeg",
  opus: "audio/ogg",
  aac: "audio/aac",
  flac: "audio/flac",
  wav: "audio/wav",
  pcm: "audio/pcm",
};
export const EXTENSIONS = {
  mp3: "mp3",
  opus: "opus",
  aac: "aac",
  flac: "flac",
  wav: "wav",
  pcm: "pcm",
};
// Raw `pcm` from the router: 24 kHz, signed 16-bit little-endian, mono.
const PCM_RATE = 24_000;

/** Whether MP3 can be played while it streams in. */
export function canStream(format) {
  return format === "mp3" && "MediaSource" in window && MediaSource.isTypeSupported("audio/mpeg");
}

/**
 * Play `response` in `audio` as it arrives (or once complete, where the browser cannot stream
 * the format); `onFirstAudio` runs when the first bytes are playing. Resolves to the whole file.
 */
export async function play(response, format, audio, onFirstAudio) {
  if (canStream(format)) return streamInto(response, audio, onFirstAudio);
  const blob = await response.blob();
  const file = new Blob([blob], { type: MEDIA_TYPES[format] });
  const playable = format === "pcm" ? wavOfPcm(await file.arrayBuffer()) : file;
  audio.src = URL.createObjectURL(playable);
  onFirstAudio();
  audio.play().catch(() => {});
  return file;
}

async function streamInto(response, audio, onFirstAudio) {
  const source = new MediaSource();
  audio.src = URL.createObjectURL(source);
  await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
  const buffer = source.addSourceBuffer("audio/mpeg");
  const reader = response.body.getReader();
  const chunks = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    await append(buffer, value);
    if (chunks.length === 1) {
      onFirstAudio();
      audio.play().catch(() => {});
    }
  }
  if (source.readyState === "open") source.endOfStream();
  return new Blob(chunks, { type: MEDIA_TYPES.mp3 });
}

function append(buffer, chunk) {
  return new Promise((resolve, reject) => {
    buffer.addEventListener("updateend", resolve, { once: true });
    buffer.addEventListener(
      "error",
      () => reject(new Error("the browser could not decode the audio")),
      {
        once: true,
      },
    );
    buffer.appendBuffer(chunk);
  });
}

/** Raw PCM wrapped in a WAV header, so the browser can play it. */
function wavOfPcm(pcm) {
  const header = new DataView(new ArrayBuffer(44));
  const text = (offset, value) =>
    [...value].forEach((c, i) => header.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  header.setUint32(4, 36 + pcm.byteLength, true);
  text(8, "WAVE");
  text(12, "fmt ");
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true);
  header.setUint16(22, 1, true);
  header.setUint32(24, PCM_RATE, true);
  header.setUint32(28, PCM_RATE * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  text(36, "data");
  header.setUint32(40, pcm.byteLength, true);
  return new Blob([header, pcm], { type: "audio/wav" });
}
