// Chinese first, English on a toggle. Every UI text is written twice (<span class="l-zh"> and
// <span class="l-en">); the body class (ui-zh / ui-en) shows one of them (static/css/map.css).

let current = 'zh';

/** The current UI language: 'zh' or 'en'. */
export function lang() {
  return current;
}

/** A fragment holding both texts: <span class="l-zh">zh</span><span class="l-en" lang="en">en</span>. */
export function bi(zh, en) {
  const frag = document.createDocumentFragment();
  const a = document.createElement('span');
  a.className = 'l-zh';
  a.textContent = zh;
  const b = document.createElement('span');
  b.className = 'l-en';
  b.lang = 'en';
  b.textContent = en || zh;
  frag.append(a, b);
  return frag;
}

/** The text in the current language (for attributes such as title or placeholder). */
export function t(zh, en) {
  return current === 'en' ? en : zh;
}

/** Switch the UI language ('zh' or 'en'). */
export function setLang(value) {
  current = value === 'en' ? 'en' : 'zh';
  document.body.classList.toggle('ui-en', current === 'en');
  document.body.classList.toggle('ui-zh', current === 'zh');
  document.documentElement.lang = current === 'en' ? 'en' : 'zh-CN';
  for (const el of document.querySelectorAll('[data-title-zh]')) {
    el.title = t(el.dataset.titleZh, el.dataset.titleEn);
  }
  for (const el of document.querySelectorAll('option[data-zh]')) {
    el.textContent = t(el.dataset.zh, el.dataset.en);
  }
  for (const el of document.querySelectorAll('[data-placeholder-zh]')) {
    el.placeholder = t(el.dataset.placeholderZh, el.dataset.placeholderEn);
  }
}

/** An element with a class and (optionally) text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}
