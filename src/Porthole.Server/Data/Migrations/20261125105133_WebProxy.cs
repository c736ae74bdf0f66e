using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Porthole.Server.Data.Migrations
{
    /// <inheritdoc />
    public partial class WebProxy : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "HostHeader",
                table: "Endpoints",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "RewriteAbsoluteLinks",
                table: "Endpoints",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "TlsCertificateSha256",
                table: "Endpoints",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "WebRequests",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SessionId = table.Column<string>(type: "TEXT", nullable: false),
                    At = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    Method = table.Column<string>(type: "TEXT", nullable: false),
                    Path = table.Column<string>(type: "TEXT", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    BytesIn = table.Column<long>(type: "INTEGER", nullable: false),
                    BytesOut = table.Column<long>(type: "INTEGER", nullable: false),
                    DurationMs = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WebRequests", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_WebRequests_SessionId_Id",
                table: "WebRequests",
                columns: new[] { "SessionId", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "WebRequests");

            migrationBuilder.DropColumn(
                name: "HostHeader",
                table: "Endpoints");

            migrationBuilder.DropColumn(
                name: "RewriteAbsoluteLinks",
                table: "Endpoints");

            migrationBuilder.DropColumn(
                name: "TlsCertificateSha256",
                table: "Endpoints");
        }
    }
}
