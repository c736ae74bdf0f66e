using System.Text;

namespace Porthole.Cli.Output;

/// <summary>A plain-text table with left-aligned columns separated by two spaces, for people.</summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    /// <summary>Adds a row; it must have one cell per header.</summary>
    public void Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"expected {headers.Length} cells, got {cells.Length}", nameof(cells));
        }

        _rows.Add(cells);
    }

    /// <summary>Writes the header and the rows to <paramref name="writer"/>.</summary>
    public void Write(TextWriter writer)
    {
        var widths = headers.Select((header, column) => _rows.Select(row => row[column].Length).Prepend(header.Length).Max()).ToArray();
        WriteRow(writer, headers, widths);
        foreach (var row in _rows)
        {
            WriteRow(writer, row, widths);
        }

        writer.Flush();
    }

    private static void WriteRow(TextWriter writer, string[] cells, int[] widths)
    {
        var line = new StringBuilder();
        for (var column = 0; column < cells.Length; column++)
        {
            line.Append(column == cells.Length - 1 ? cells[column] : cells[column].PadRight(widths[column] + 2));
        }

        writer.WriteLine(line.ToString().TrimEnd());
    }
}
