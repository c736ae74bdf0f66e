namespace Porthole.Bench.Paths;

/// <summary>The Release executables that <c>bench/run.sh</c> builds.</summary>
public static class Binaries
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Server => Executable("Porthole.Server", "porthole-server");

    public static string Agent => Executable("Porthole.Agent", "porthole-agent");

    public static string Cli => Executable("Porthole.Cli", "porthole");

    private static string Executable(string project, string name)
    {
        var path = Path.Combine(RepositoryRoot, "src", project, "bin", "Release", "net10.0", name);
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
