namespace Porthole.Bench.Paths;

/// <summary>
/// The Release executables that <c>bench/run.sh</c> builds, of this checkout or (for a same-run A/B of a code change)
/// of another one.
/// </summary>
public sealed class Binaries(string root)
{
    /// <summary>
    /// The variant environment name that runs a variant's processes from another checkout's Release build
    /// (<c>--variant base:PORTHOLE_BENCH_BUILD=/path/to/checkout</c>). It is not passed on to the processes.
    /// </summary>
    public const string BuildVariable = "PORTHOLE_BENCH_BUILD";

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>This checkout's build.</summary>
    public static Binaries Default { get; } = new(RepositoryRoot);

    public string Server => Executable("Porthole.Server", "porthole-server");

    public string Agent => Executable("Porthole.Agent", "porthole-agent");

    public string Cli => Executable("Porthole.Cli", "porthole");

    private string Executable(string project, string name)
    {
        var path = Path.Combine(root, "src", project, "bin", "Release", "net10.0", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{name} is not built (dotnet build -c Release); expected {path}");
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Porthole.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Porthole.slnx not found above " + AppContext.BaseDirectory);
    }
}
