using Porthole.Server.Data;

namespace Porthole.Server.Web.Pages.Viewers;

/// <summary>The xterm.js terminal tab for Telnet and raw TCP consoles.</summary>
public sealed class TerminalModel(PortholeDbContext db) : ViewerPageModel(db, Web.ViewerKinds.Terminal);
