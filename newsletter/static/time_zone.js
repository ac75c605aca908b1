// The subscribe form tells us the browser's time zone, so issues arrive at a local hour.
document.querySelectorAll("input[data-browser-time-zone]").forEach(function (field) {
  try {
    field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    field.value = "";
  }
});
