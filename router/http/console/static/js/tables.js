// Data tables whose cells carry their column's name, so rows can stack on a phone.

import { el } from "./dom.js";

/**
 * Fill `table` with a header of `columns` (`{label, value(row), number?}`) and one row per item;
 * `empty` is shown when there are no rows.
 */
export function fillTable(table, columns, rows, empty = "Nothing yet.") {
  const head = el("thead", {}, [
    el(
      "tr",
      {},
      columns.map((column) =>
        el("th", { scope: "col", class: column.number ? "number" : null, text: column.label }),
      ),
    ),
  ]);
  const body = el(
    "tbody",
    {},
    rows.length
      ? rows.map((row) =>
          el(
            "tr",
            {},
            columns.map((column) => cell(column, row)),
          ),
        )
      : [el("tr", {}, [el("td", { colspan: columns.length, class: "empty", text: empty })])],
  );
  table.replaceChildren(head, body);
}

function cell(column, row) {
  const value = column.value(row);
  const content = value instanceof Node ? [value] : [];
  const attributes = { "data-label": column.label, class: column.number ? "number" : null };
  if (!(value instanceof Node)) attributes.text = value ?? "—";
  return el("td", attributes, content);
}
