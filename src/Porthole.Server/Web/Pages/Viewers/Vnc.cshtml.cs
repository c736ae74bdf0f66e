using Porthole.Server.Data;

namespace Porthole.Server.Web.Pages.Viewers;

/// <summary>The noVNC viewer tab.</summary>
public sealed class VncModel(PortholeDbContext db) : ViewerPageModel(db, Web.ViewerKinds.Vnc);
