namespace Porthole.FunctionalTests.WebProxy;

/// <summary>A server whose web sessions end after 4 s without a request and live at most 15 s.</summary>
public sealed class ShortLivedWebProxyStack() : WebProxyStack(["--Porthole:WebProxy:IdleTimeout=00:00:04", "--Porthole:WebProxy:MaxLifetime=00:00:15"]);
