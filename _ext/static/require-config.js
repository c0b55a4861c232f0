// Tell require.js where the vendored widget manager lives, so the fonts and modules it loads by path resolve
// to this site's copy (next to this file) instead of the page's own folder.
(function () {
  var src = document.currentScript.src;
  var base = src.substring(0, src.lastIndexOf("/"));
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": base + "/html-manager" } });
})();
