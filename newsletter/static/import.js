// The import report: counts follow the worker, and the page reloads when it ends.
// Reloads when the import ends so the report of rejected rows is complete.
(function () {
  var status = document.getElementById('status').textContent;
  if (status !== 'queued' && status !== 'running') { return; }
  setInterval(function () {
    fetch('?format=json', {credentials: 'same-origin'}).then(function (r) { return r.json(); }).then(function (d) {
      ['imported', 'rejected', 'total'].forEach(function (k) { document.getElementById(k).textContent = d[k]; });
      document.getElementById('bar').max = d.total || 1;
      document.getElementById('bar').value = d.imported + d.rejected;
      if (d.status === 'done' || d.status === 'failed') { location.reload(); }
    });
  }, 1500);
})();
