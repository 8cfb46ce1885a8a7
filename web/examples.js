// Example reviews for the demo, written for attnlens (not taken from any data set).
export const EXAMPLES = [
  {
    name: 'Turns around',
    text: 'Slow at first, but ultimately deeply moving. By the last scene I was in tears, and I have thought about it all week.',
  },
  {
    name: 'Promising, then not',
    text: 'I wanted to love this. The cast is great and the first half hour promises a lot, but the plot falls apart, '
      + 'the jokes never land and the ending is an insult. Two hours I will never get back.',
  },
  {
    name: 'Rave',
    text: 'A masterpiece. Every frame is beautiful, the score is haunting, and the performances are superb.',
  },
  {
    name: 'Pan',
    text: 'Utterly boring. Wooden acting, a predictable script and no reason to care about anyone on screen.',
  },
  {
    name: 'Not bad',
    text: "Not bad at all! I expected a disaster and got a charming, funny little film that doesn't outstay its welcome.",
  },
  {
    name: 'Long review',
    text: 'I went in with low expectations. The trailer made it look like yet another loud action sequel, and the '
      + 'opening twenty minutes did little to change my mind: a chase, an explosion, a villain who explains his plan '
      + 'for no reason, and dialogue that sounds like it was written on the back of a napkin.<br /><br />'
      + 'And then something odd happens. The film slows down. The hero, who until then had been a cardboard cut-out, '
      + 'sits in a kitchen with his estranged sister and the two of them simply talk, for almost ten minutes, about '
      + 'their father. It is the best scene of the year. The actors, who had been wasted on shouting, suddenly have '
      + 'room to breathe, and you realise the director knew exactly what she was doing all along.<br /><br />'
      + 'The last act returns to explosions, but now they matter, because we care about these people. The effects are '
      + 'good rather than great, the music is too loud, and one subplot about a stolen painting goes nowhere. Still, '
      + 'I left the cinema moved and a little stunned. Flawed, surprising, and well worth seeing on the big screen.',
  },
];
