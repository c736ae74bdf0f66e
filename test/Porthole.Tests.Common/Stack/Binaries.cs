using Xunit;
namespace Porthole.Tests.Common.Stack;

/// <summary>
/// Where the built executables are: each project's own output folder, in the configuration these tests were
/// built in (the test project references them, so they are always built first).
/// </summary>
public static class Binaries
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string Server => Executable("Porthole.Server", "porthole-server");

    public static string Agent => Executable("Porthole.Agent", "porthole-agent");

    public static string Cli => Executable("Porthole.Cli", "porthole");

    private static string Executable(string project, string name)
    {
        var path = Path.Combine(RepositoryRoot, "src", project, "bin", Configuration, "net10.0", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{name} is not built; expected {path}");
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

        throw new DirectoryNotFoundException("Porthole.slnx not found above " + AppContext.BaseDirectory);
    }
}
