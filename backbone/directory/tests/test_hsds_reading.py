from backbone.directory.hsds.reading import read_datapackage


def test_csv_rows_keep_their_line_numbers_and_leave_out_empty_and_extra_cells(tmp_path, hsds):
    (tmp_path / "services.csv").write_text(
        "id,name,minimum_age,maximum_age,status\n"
        "s1,Pantry,14,,active\n"
        "\n"  # a blank line is no row
        "s2,Clinic,18.5,sixty,active,extra cell\n"
        "s3,Short row\n",
        encoding="utf-8",
    )

    records = read_datapackage(tmp_path)

    assert [(r.table, r.file, r.row, r.values) for r in records] == [
        (
            "service",
            "services.csv",
            "2",
            {"id": "s1", "name": "Pantry", "minimum_age": 14, "status": "active"},
        ),
        (
            "service",
            "services.csv",
            "3",
            {
                "id": "s2",
                "name": "Clinic",
                "minimum_age": 18.5,
                "maximum_age": "sixty",
                "status": "active",
            },
        ),
        ("service", "services.csv", "4", {"id": "s3", "name": "Short row"}),
    ]
