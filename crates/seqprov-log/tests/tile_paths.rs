//! The tile-path vectors of spec/vectors/log/tile-paths.json: every valid tile is spelled
//! exactly as listed and parses back; every rejected path is refused.

use seqprov_log::tile_path::TilePath;

#[test]
fn tile_path_vectors() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../spec/vectors/log/tile-paths.json"
    ))
    .unwrap();
    let vectors: serde_json::Value = serde_json::from_str(&text).unwrap();
    let valid = vectors["valid"].as_array().unwrap();
    assert!(valid.len() >= 8);
    for case in valid {
        let index = case["index"].as_u64().unwrap();
        let width = u16::try_from(case["width"].as_u64().unwrap()).unwrap();
        let tile = match case["kind"].as_str().unwrap() {
            "hash" => TilePath::Hash {
                level: u8::try_from(case["level"].as_u64().unwrap()).unwrap(),
                index,
                width,
            },
            "entries" => TilePath::Entries { index, width },
            other => panic!("unknown kind {other}"),
        };
        let path = case["path"].as_str().unwrap();
        assert_eq!(tile.to_path(), path);
        assert_eq!(TilePath::parse(path).unwrap(), tile);
    }
    let rejected = vectors["rejected"].as_array().unwrap();
    assert!(rejected.len() >= 10);
    for path in rejected {
        let path = path.as_str().unwrap();
        assert!(TilePath::parse(path).is_err(), "{path:?} was accepted");
    }
}
