/**
 * MovieLens ratings in its three published layouts, told apart by the first
 * non-blank line:
 * - contains `::`: ratings.dat, `UserID::MovieID::Rating::Timestamp` (1M/10M);
 * - the header `userId,movieId,rating,timestamp`: ratings.csv (latest/20M/25M);
 * - otherwise u.data, tab separated `user item rating timestamp` (100K).
 * The behavior of an event is its rating as a number in text ("4", "2.5").
 *
 * Items files, told apart the same way: movies.dat `MovieID::Title::Genres`
 * (latin1), movies.csv with header `movieId,title,genres` (UTF-8, RFC 4180
 * quoting), or u.item (latin1, `|` separated, 19 genre flags). The category
 * of a movie is its first genre; "(no genres listed)" counts as none.
 */
import { InputError } from '../../core/errors.js';
import { parseCsvLine } from '../csv.js';
import { checkId, parseDecimal, parseInteger, splitExact, type Where } from '../fields.js';
import { decodeUtf8, forEachTextLine } from '../files.js';
import type { FormatSpec, ItemInfo, ItemInfoMap } from './format.js';

interface RatingsLayout {
  sep: string;
  names: readonly string[];
}

const RATINGS_DAT: RatingsLayout = { sep: '::', names: ['UserID', 'MovieID', 'Rating', 'Timestamp'] };
const RATINGS_CSV: RatingsLayout = { sep: ',', names: ['userId', 'movieId', 'rating', 'timestamp'] };
const U_DATA: RatingsLayout = { sep: '\t', names: ['user', 'item', 'rating', 'timestamp'] };
const RATINGS_CSV_HEADER = RATINGS_CSV.names.join(',');
const MOVIES_CSV_HEADER = 'movieId,title,genres';

/** u.item genre flag columns, in file order. */
const U_ITEM_GENRES = [
  'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama',
  'Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
] as const;
const U_ITEM_FIELDS = ['movie id', 'movie title', 'release date', 'video release date', 'IMDb URL', ...U_ITEM_GENRES];

/** The `movielens` format. */
export const movieLensFormat: FormatSpec = {
  encoding: 'utf8',
  takesMinRating: true,
  parser(file, sink, minRating) {
    let layout: RatingsLayout | undefined;
    return (line, lineNo) => {
      if (!layout) {
        layout = line.includes('::') ? RATINGS_DAT : line === RATINGS_CSV_HEADER ? RATINGS_CSV : U_DATA;
        if (layout === RATINGS_CSV) return;
      }
      const at = { file, line: lineNo };
      const [user, item, ratingText, ts] = splitExact(at, line, layout.sep, layout.names);
      const rating = parseDecimal(at, 'rating', ratingText, 0.5, 5);
      const userId = checkId(at, 'user id', user);
      const movieId = checkId(at, 'movie id', item);
      const time = parseInteger(at, 'timestamp', ts);
      if (minRating !== undefined && rating < minRating) sink.dropped();
      else sink.event(userId, movieId, String(rating), time, null);
    };
  },
  readItems: readMovies,
};

type MovieLineParser = (at: Where, line: string) => [id: string, info: ItemInfo];

function readMovies(file: string, bytes: Buffer): ItemInfoMap {
  const latin1 = bytes.toString('latin1');
  const lines = latin1.split('\n');
  const firstIndex = Math.max(0, lines.findIndex((l) => l.trim() !== ''));
  const firstLine = lines[firstIndex].replace(/\r$/, '');
  let parse: MovieLineParser;
  let text = latin1;
  if (firstLine.includes('::')) parse = parseMoviesDat;
  else if (firstLine === MOVIES_CSV_HEADER) {
    parse = parseMoviesCsv;
    text = decodeUtf8(file, bytes);
  } else if (firstLine.includes('|')) parse = parseUItem;
  else throw new InputError(file, firstIndex + 1, 'not a MovieLens items file (movies.dat, movies.csv or u.item)', firstLine);

  const map: ItemInfoMap = new Map();
  let sawHeader = parse !== parseMoviesCsv;
  forEachTextLine(text, (line, lineNo) => {
    if (!sawHeader) {
      sawHeader = true;
      return;
    }
    const at = { file, line: lineNo };
    const [id, info] = parse(at, line);
    if (map.has(id)) throw new InputError(file, lineNo, 'duplicate movie id', id);
    map.set(id, info);
  });
  return map;
}

function parseMoviesDat(at: Where, line: string): [string, ItemInfo] {
  const [id, title, genres] = splitExact(at, line, '::', ['MovieID', 'Title', 'Genres']);
  return [checkId(at, 'movie id', id), { category: firstGenre(genres), title: title || null }];
}

function parseMoviesCsv(at: Where, line: string): [string, ItemInfo] {
  const fields = parseCsvLine(line);
  if (!fields) throw new InputError(at.file, at.line, 'malformed CSV quoting', line);
  if (fields.length !== 3) {
    throw new InputError(at.file, at.line, `expected 3 CSV fields (${MOVIES_CSV_HEADER}), got ${fields.length}`, line);
  }
  const [id, title, genres] = fields;
  return [checkId(at, 'movie id', id), { category: firstGenre(genres), title: title || null }];
}

function parseUItem(at: Where, line: string): [string, ItemInfo] {
  const fields = splitExact(at, line, '|', U_ITEM_FIELDS);
  let category: string | null = null;
  U_ITEM_GENRES.forEach((genre, g) => {
    const flag = fields[5 + g];
    if (flag !== '0' && flag !== '1') throw new InputError(at.file, at.line, `genre flag ${genre} must be 0 or 1`, flag);
    if (flag === '1' && category === null) category = genre;
  });
  return [checkId(at, 'movie id', fields[0]), { category, title: fields[1] || null }];
}

function firstGenre(genres: string): string | null {
  const first = genres.split('|')[0];
  return first === '' || first === '(no genres listed)' ? null : first;
}
