namespace Porthole.Server.Hosting;

/// <summary>The server's data directory: created owner-only, since it holds the database and the TLS key.</summary>
public sealed class DataDirectory
{
    public DataDirectory(string path)
    {
        Path = path;
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public string Path { get; }

    public string DatabasePath => System.IO.Path.Combine(Path, "porthole.db");

    public string CertificatePath => System.IO.Path.Combine(Path, "tls-certificate.pfx");
}
