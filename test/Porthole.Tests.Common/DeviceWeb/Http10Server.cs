namespace Porthole.Tests.Common.DeviceWeb;

/// <summary>
/// Python's <c>http.server</c> on a loopback port: it speaks HTTP/1.0 only (its default protocol version) and closes
/// the connection after every response, as old embedded servers do.
/// </summary>
public sealed class Http10Server : IAsyncDisposable
{
    public const string PythonPath = "/usr/bin/python3";

    private Http10Server(ProcessRunner process, int port)
    {
        Process = process;
        Port = port;
    }

    /// <summary>The server process; it logs every request on stderr.</summary>
    public ProcessRunner Process { get; }

    public int Port { get; }

    /// <summary>The pages it serves: <c>/</c> and <c>/page1.html</c> … <c>/page3.html</c>, each naming itself in its title.</summary>
    public static IReadOnlyList<string> Pages { get; } = ["/page1.html", "/page2.html", "/page3.html"];

    public static async Task<Http10Server> StartAsync(string directory, Action<string>? log = null)
    {
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "index.html"), "<!doctype html><title>Old device</title><h1 id=\"title\">Old device</h1>" +
            string.Concat(Pages.Select(p => $"<a href=\"{p}\">{p}</a> ")) + "\n");
        for (var i = 0; i < Pages.Count; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, Pages[i].TrimStart('/')), $"<!doctype html><title>Page {i + 1}</title><h1 id=\"title\">Page {i + 1}</h1>\n");
        }

        var (process, port) = await LoopbackDaemon.StartAsync("python3 -m http.server", null, p =>
            ProcessRunner.Start(PythonPath, ["-u", "-m", "http.server", "--bind", "127.0.0.1", p.ToString(System.Globalization.CultureInfo.InvariantCulture), "--directory", directory], log: log));
        return new Http10Server(process, port);
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
