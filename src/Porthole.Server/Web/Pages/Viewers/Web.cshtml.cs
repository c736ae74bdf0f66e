using Porthole.Server.Data;

namespace Porthole.Server.Web.Pages.Viewers;

/// <summary>
/// The tab that opens a device's web page: its script starts a web session through the API and moves the tab to the
/// session's own origin with the single-use URL (so the ticket never sits in the console's pages or history).
/// </summary>
public sealed class WebModel(PortholeDbContext db) : ViewerPageModel(db, Web.ViewerKinds.Web);
