// Small DOM helpers shared by every view.

/** The element with this id; a missing one is a bug in the page. */
export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing element #${id}`);
  return element;
}

/** A new element with attributes, properties (`text`, `value`, `on*`) and children. */
export function el(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") element.textContent = value;
    else if (name === "value") element.value = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children);
  return element;
}

/** Show `text` in a message element, or hide it when `text` is empty. */
export function say(element, text, kind = "") {
  element.textContent = text || "";
  element.hidden = !text && element.getAttribute("role") === "alert";
  element.classList.toggle("success", kind === "success");
}

/** Replace the options of a select, keeping the chosen value when it is still offered. */
export function setOptions(select, options, fallback) {
  const previous = select.value;
  select.replaceChildren(...options);
  const values = Array.from(select.options, (option) => option.value);
  if (values.includes(previous)) select.value = previous;
  else if (fallback !== undefined && values.includes(fallback)) select.value = fallback;
}

/** A number in the reader's locale, with at most `digits` decimals. */
export function number(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits });
}

/** US dollars, to the cent or finer for small amounts. */
export function dollars(value) {
  const digits = Math.abs(value) < 1 ? 4 : 2;
  return `$${Number(value).toLocaleString(undefined, {
    minimumFractionDigits: 2,
    maximumFractionDigits: digits,
  })}`;
}

/** A Unix timestamp as a short local date and time. */
export function moment(seconds) {
  if (!seconds) return "—";
  return new Date(seconds * 1000).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

/** The value of a number input, or null when it is empty. */
export function optionalInteger(input) {
  return input.value.trim() === "" ? null : Number(input.value);
}
