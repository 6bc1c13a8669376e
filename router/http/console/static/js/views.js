// Which view is on screen: one section per view, chosen by the URL's fragment.

export const VIEWS = ["signin", "playground", "usage", "keys"];

/** The view the fragment names, or null. */
export function requestedView() {
  const name = location.hash.replace(/^#/, "");
  return VIEWS.includes(name) ? name : null;
}

/** Show one view, mark its link as current and move focus to its heading. */
export function showView(name, { focus = true } = {}) {
  for (const section of document.querySelectorAll("[data-view]")) {
    section.hidden = section.dataset.view !== name;
  }
  for (const link of document.querySelectorAll("[data-view-link]")) {
    if (link.dataset.viewLink === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const heading = document.querySelector(`[data-view="${name}"] h1`);
  document.title = `${heading ? heading.textContent : "Console"} · tts-router console`;
  if (focus && heading) heading.focus();
}

/** Show or hide what only admin keys may see. */
export function showAdminParts(isAdmin) {
  for (const element of document.querySelectorAll("[data-admin]")) element.hidden = !isAdmin;
}
